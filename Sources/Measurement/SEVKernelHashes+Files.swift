import Crypto
import Foundation

extension SEVKernelHashes {
    /// Why a kernel or initrd file could not be hashed.
    public struct FileError: Error, Equatable, Sendable, CustomStringConvertible {
        public let path: String
        public let reason: String
        public var description: String { "cannot read \(path): \(reason)" }
    }

    /// The hashes of a kernel, an optional initrd and an optional command line, reading the
    /// files in 1 MiB pieces so a large initrd is never held in memory whole.
    public init(kernelFile: String, initrdFile: String?, commandLine: String?) throws(FileError) {
        let initrd = try initrdFile.map { path throws(FileError) in try Self.sha256(ofFile: path) }
        self.init(kernelSHA256: try Self.sha256(ofFile: kernelFile),
                  initrdSHA256: initrd ?? Array(SHA256.hash(data: [UInt8]())), commandLine: commandLine)
    }

    static func sha256(ofFile path: String) throws(FileError) -> [UInt8] {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
            throw FileError(path: path, reason: "it is a directory")
        }
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw FileError(path: path, reason: FileManager.default.fileExists(atPath: path) ? "permission denied" : "no such file")
        }
        defer { try? handle.close() }
        var hasher = SHA256()
        do {
            while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty { hasher.update(data: chunk) }
        } catch {
            throw FileError(path: path, reason: "read failed (\((error as NSError).localizedDescription))")
        }
        return Array(hasher.finalize())
    }
}
