import Foundation

/// The reason a file operation failed, in words: the POSIX reason when Foundation wraps one
/// ("Permission denied", "Is a directory"), never "NSCocoaErrorDomain error 512".
public enum FileProblem {
    public static func reason(_ error: Error) -> String {
        let nsError = error as NSError
        if let underlying = nsError.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32(underlying.code)))
        }
        if nsError.domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(nsError.code))) }
        return nsError.localizedDescription
    }
}
