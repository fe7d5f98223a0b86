import Foundation

/// libFuzzer entry for `BoundedXML` (compiled with it alone by `scripts/fuzz-xml`): any input must be
/// parsed or refused with `Malformed`, never crash, hang or exhaust the stack; what parses must
/// serialise and parse again.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let data = Data(bytes: start, count: count)
    guard let root = try? BoundedXML.parse(data) else { return 0 }
    let text = BoundedXML.serialize([.element(root)])
    do {
        _ = try BoundedXML.parse(Data(text.utf8))
    } catch {
        fatalError("serialised tree does not parse again: \(error)\n\(text)")
    }
    return 0
}
