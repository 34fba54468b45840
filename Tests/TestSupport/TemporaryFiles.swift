import Foundation

/// A path under the system's temporary directory that nothing uses yet (not created).
public func temporaryPath(_ name: String = "vectorsearch-tests") -> String {
    NSTemporaryDirectory() + name + "-" + UUID().uuidString
}

/// A fresh, empty temporary directory; remove it with `cleanup`.
public func temporaryDirectory() -> String {
    let path = temporaryPath()
    try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// Removes a file or directory tree made by a test, if it is there.
public func cleanup(_ path: String) { try? FileManager.default.removeItem(atPath: path) }
