import Foundation

// A folder of training images: every PNG / JPEG / PPM / PGM below `root` (recursive, sorted, hidden
// files skipped). A COCO train2017 folder works as is. Scanning only lists paths; decoding happens in
// the batch loader.

public enum DatasetError: Error, CustomStringConvertible, Equatable {
    case notFound(path: String)
    case notAFolder(path: String)
    case empty(path: String)
    case noReadableImages(path: String, tried: Int)

    public var description: String {
        switch self {
        case let .notFound(p): return "\(p): no such folder; pass a folder of training images (PNG, JPEG or PPM)"
        case let .notAFolder(p): return "\(p): not a folder; pass the folder that holds the training images"
        case let .empty(p): return "\(p): no PNG, JPEG or PPM images found (searched recursively); put training images there or pass another folder"
        case let .noReadableImages(p, n): return "\(p): none of the \(n) images could be decoded (or all are smaller than 16 px); check the files"
        }
    }
}

public struct ImageFolder: Sendable {
    public static let extensions: Set<String> = ["png", "jpg", "jpeg", "ppm", "pgm"]
    public let root: String
    public let paths: [String]

    public var count: Int { paths.count }

    public init(root: String) throws {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: root, isDirectory: &isDir) else { throw DatasetError.notFound(path: root) }
        guard isDir.boolValue else { throw DatasetError.notAFolder(path: root) }
        let url = URL(fileURLWithPath: root)
        var found: [String] = []
        if let e = FileManager.default.enumerator(at: url, includingPropertiesForKeys: nil,
                                                  options: [.skipsHiddenFiles]) {
            for case let file as URL in e where ImageFolder.extensions.contains(file.pathExtension.lowercased()) {
                found.append(file.path)
            }
        }
        found.sort()
        guard !found.isEmpty else { throw DatasetError.empty(path: root) }
        self.root = root
        self.paths = found
    }

    /// A fixed list of files (tests, or a list built elsewhere).
    public init(root: String, paths: [String]) throws {
        guard !paths.isEmpty else { throw DatasetError.empty(path: root) }
        self.root = root
        self.paths = paths
    }
}
