import CKVM

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

// Thin typed shims over ioctl(2) used by every fd owner. Each returns the ioctl's
// non-negative result or throws `KVMError.ioctl` with the ioctl name and errno.

/// ioctl(fd, request, pointer) — for requests that carry a structure.
@inline(__always)
func kvmIoctl(
    _ fd: Int32, _ request: UInt, _ name: String, _ argument: UnsafeMutableRawPointer?
) throws(KVMError) -> Int32 {
    // SAFETY: `argument` points to a live structure of the size encoded in `request`, or is nil for value requests.
    let result = ckvm_ioctl_ptr(fd, request, argument)
    if result < 0 { throw .ioctl(name: name, errno: errno) }
    return result
}

/// ioctl(fd, request, value) — for requests that carry an integer (or nothing).
@inline(__always)
func kvmIoctl(_ fd: Int32, _ request: UInt, _ name: String, value: UInt = 0) throws(KVMError) -> Int32 {
    // SAFETY: the request takes an integer argument; no memory is passed to the kernel.
    let result = ckvm_ioctl_value(fd, request, value)
    if result < 0 { throw .ioctl(name: name, errno: errno) }
    return result
}

/// ioctl with a structure passed by address: wraps the inout-to-pointer dance once.
@inline(__always)
func kvmIoctl<T>(_ fd: Int32, _ request: UInt, _ name: String, _ value: inout T) throws(KVMError) -> Int32 {
    // SAFETY: `value` is a C structure whose size is encoded in `request`; the pointer lives for the call.
    let result = withUnsafeMutablePointer(to: &value) { ckvm_ioctl_ptr(fd, request, UnsafeMutableRawPointer($0)) }
    if result < 0 { throw .ioctl(name: name, errno: errno) }
    return result
}

/// close(2) for a descriptor this module owns; errors on close are not actionable and are ignored.
@inline(__always)
func closeOwned(_ fd: Int32) {
    // SAFETY: `fd` is owned by the caller's deinit and is closed exactly once.
    _ = close(fd)
}

/// open(path, O_RDWR | O_CLOEXEC) for a device node.
func openReadWrite(_ path: String) throws(KVMError) -> Int32 {
    // SAFETY: `path` is bridged to a NUL-terminated C string that lives for the call.
    let fd = open(path, O_RDWR | O_CLOEXEC)
    if fd < 0 { throw .open(path: path, errno: errno) }
    return fd
}
