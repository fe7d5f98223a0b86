import CollectorCore
@testable import CollectorHTTP
import Testing
import WebDAV

/// Every refusal kind of the domain and of the store has its own HTTP status: a kind added without
/// one would otherwise answer a silent 400.
struct ErrorMappingTests {
    @Test func everyKindHasAStatus() {
        for kind in CollectorError.Kind.all {
            #expect(JSONErrorMiddleware.statuses[kind] != nil, "CollectorError.\(kind) has no status")
        }
        for kind in StoreError.Kind.all {
            #expect(JSONErrorMiddleware.storeStatuses[kind] != nil, "StoreError.\(kind) has no status")
        }
        #expect(Set(CollectorError.Kind.all.map(\.description)).count == CollectorError.Kind.all.count)
        #expect(Set(StoreError.Kind.all.map(\.description)).count == StoreError.Kind.all.count)
    }
}
