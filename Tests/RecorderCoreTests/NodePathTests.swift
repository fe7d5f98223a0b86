import Testing

@testable import RecorderCore

struct NodePathTests {
    @Test(arguments: ["/", "/emea", "/emea/paris/sales", "/us-east/site_2/team.a"])
    func accepts(_ path: String) throws {
        try NodePath.validate(path)
    }

    @Test(arguments: ["", "emea", "/emea/", "//emea", "/emea/../x", "/./x", "/emea/pa ris", "/emea/pa%2Fris", "/ém"])
    func rejects(_ path: String) {
        #expect(throws: NodePath.Invalid.self) { try NodePath.validate(path) }
    }
}
