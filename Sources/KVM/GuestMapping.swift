import CKVM

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A host mapping (mmap MAP_SHARED) of a whole `GuestMemoryFile` (guest_memfd or its memfd
/// stand-in), unmapped exactly once in `deinit`. Keeps the file alive.
///
/// Thread-safety: the object's own state (address, size, owner) is immutable, which is
/// why it is `@unchecked Sendable`. The *bytes* behind `base` are shared with the guest and
/// the kernel like any shared memory; callers order their accesses (e.g. write a payload
/// before the vCPU runs).
public final class GuestMapping: HostMemory, @unchecked Sendable {
    public let base: UnsafeMutableRawPointer
    public let size: Int
    /// The file this maps.
    public let file: any GuestMemoryFile

    init(file: any GuestMemoryFile) throws(KVMError) {
        guard file.size <= UInt64(Int.max) else { throw .invalidArgument("guest memory file too large to map") }
        let length = Int(file.size)
        // SAFETY: new shared mapping of an fd we own; the result is checked before use.
        let address = mmap(nil, length, PROT_READ | PROT_WRITE, MAP_SHARED, file.fd, 0)
        guard let address, ckvm_is_map_failed(address) == 0 else {
            throw .mmap(what: file is GuestMemfd ? "guest_memfd" : "memfd", errno: errno)
        }
        self.base = address
        self.size = length
        self.file = file
    }

    deinit {
        // SAFETY: `base`/`size` are exactly what mmap returned; unmapped once, here.
        _ = munmap(base, size)
    }
}
