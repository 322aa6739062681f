import Foundation

/// The reason a file operation failed, in words: the POSIX reason when Foundation wraps one
/// ("Permission denied", "Is a directory"), never "NSCocoaErrorDomain error 512".
public enum FileProblem {
    /// `path`, when given, is examined if Foundation gives no POSIX reason: on Linux a write
    /// into a folder is CocoaError 512 with no underlying errno. `creatingFolder`: the
    /// operation was making `path` a folder.
    public static func reason(_ error: Error, path: String? = nil, creatingFolder: Bool = false) -> String {
        let nsError = error as NSError
        if let underlying = nsError.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32(underlying.code)))
        }
        if nsError.domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(nsError.code))) }
        if let path, let errno = inferredErrno(path: path, creatingFolder: creatingFolder) { return String(cString: strerror(errno)) }
        return nsError.localizedDescription
    }

    /// What the file system says about `path`: EISDIR (a folder where a file goes), ENOTDIR
    /// (a file where a folder goes, or as the parent), EACCES (a parent we may not write).
    private static func inferredErrno(path: String, creatingFolder: Bool) -> Int32? {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            if creatingFolder, !isDirectory.boolValue { return ENOTDIR }
            if !creatingFolder, isDirectory.boolValue { return EISDIR }
        }
        let parent = (path as NSString).deletingLastPathComponent
        let folder = parent.isEmpty ? "." : parent
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory) else { return nil }
        if !isDirectory.boolValue { return ENOTDIR }
        return FileManager.default.isWritableFile(atPath: folder) ? nil : EACCES
    }
}
