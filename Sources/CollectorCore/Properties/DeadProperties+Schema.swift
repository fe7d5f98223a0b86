import SQLKit

/// WebDAV dead properties of the built-in store. Steps of the catalog's schema (`Migrations`).
enum DeadPropertiesSchema {
    static let steps: [Migrations.Step] = [
        Migrations.Step(version: 5, name: "WebDAV dead properties of the built-in store") { _ in
            [
                """
                CREATE TABLE dav_properties (
                    path TEXT NOT NULL,
                    namespace TEXT NOT NULL,
                    name TEXT NOT NULL,
                    value TEXT NOT NULL,
                    PRIMARY KEY (path, namespace, name)
                )
                """
            ]
        },
    ]
}
