#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Every failure the KVM module reports: which call failed and the errno it failed with.
///
/// The errno is the raw `errno` value the kernel returned; `name` is the ioctl or system
/// call exactly as the KVM API documentation spells it (e.g. `"KVM_CREATE_GUEST_MEMFD"`).
public enum KVMError: Error, Equatable, Sendable, CustomStringConvertible {
    /// An ioctl on a KVM file descriptor failed.
    case ioctl(name: String, errno: Int32)
    /// Opening a device node (normally `/dev/kvm`) failed.
    case open(path: String, errno: Int32)
    /// An mmap of `what` failed.
    case mmap(what: String, errno: Int32)
    /// Another system call (fallocate, madvise, ...) failed.
    case system(call: String, errno: Int32)
    /// A KVM_MEMORY_ENCRYPT_OP command failed; `firmwareError` is the SEV firmware status
    /// (`kvm_sev_cmd.error`) or the TDX module status (`kvm_tdx_cmd.hw_error`).
    case encryptOp(command: String, errno: Int32, firmwareError: UInt64)
    /// The caller passed a value the API rejects before any system call is made.
    case invalidArgument(String)
    /// `/dev/kvm` answered KVM_GET_API_VERSION with something other than 12.
    case unsupportedAPIVersion(Int32)

    /// The errno carried by this error, if it came from the kernel.
    public var errno: Int32? {
        switch self {
        case .ioctl(_, let e), .open(_, let e), .mmap(_, let e), .system(_, let e), .encryptOp(_, let e, _): return e
        case .invalidArgument, .unsupportedAPIVersion: return nil
        }
    }

    public var description: String {
        switch self {
        case .ioctl(let name, let e): return "\(name) failed: errno \(e) (\(errnoName(e)))"
        case .open(let path, let e): return "open \(path) failed: errno \(e) (\(errnoName(e)))"
        case .mmap(let what, let e): return "mmap of \(what) failed: errno \(e) (\(errnoName(e)))"
        case .system(let call, let e): return "\(call) failed: errno \(e) (\(errnoName(e)))"
        case .encryptOp(let command, let e, let status):
            return "KVM_MEMORY_ENCRYPT_OP(\(command)) failed: errno \(e) (\(errnoName(e))), firmware status 0x\(String(status, radix: 16))"
        case .invalidArgument(let why): return "invalid argument: \(why)"
        case .unsupportedAPIVersion(let v): return "KVM_GET_API_VERSION returned \(v), expected 12"
        }
    }
}

/// Short symbolic names for the errnos KVM commonly returns; any other errno in the C
/// library's words (strerror), e.g. "is a directory", never a bare number.
private func errnoName(_ value: Int32) -> String {
    switch value {
    case 1: return "EPERM"
    case 2: return "ENOENT"
    case 4: return "EINTR"
    case 5: return "EIO"
    case 7: return "E2BIG"
    case 9: return "EBADF"
    case 12: return "ENOMEM"
    case 13: return "EACCES"
    case 14: return "EFAULT"
    case 16: return "EBUSY"
    case 17: return "EEXIST"
    case 19: return "ENODEV"
    case 22: return "EINVAL"
    case 25: return "ENOTTY"
    case 95: return "EOPNOTSUPP"
    case 133: return "EHWPOISON"
    case 21: return "EISDIR, is a directory"
    default: return String(cString: strerror(value)).lowercased()
    }
}
