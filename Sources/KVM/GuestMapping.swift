#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CKVM

/// A host mapping (mmap MAP_SHARED) of a whole guest_memfd, unmapped exactly once in
/// `deinit`. Keeps the guest_memfd alive.
///
/// Thread-safety: the object's own state (address, size, owner) is immutable, which is
/// why it is `@unchecked Sendable`. The *bytes* behind `base` are shared with the guest and
/// the kernel like any shared memory; callers order their accesses (e.g. write a payload
/// before the vCPU runs).
public final class GuestMapping: HostMemory, @unchecked Sendable {
    public let base: UnsafeMutableRawPointer
    public let size: Int
    /// The guest_memfd this maps.
    public let memfd: GuestMemfd

    init(memfd: GuestMemfd) throws(KVMError) {
        guard memfd.size <= UInt64(Int.max) else { throw .invalidArgument("guest_memfd too large to map") }
        let length = Int(memfd.size)
        // SAFETY: new shared mapping of an fd we own; the result is checked before use.
        let address = mmap(nil, length, PROT_READ | PROT_WRITE, MAP_SHARED, memfd.fd, 0)
        guard let address, ckvm_is_map_failed(address) == 0 else {
            throw .mmap(what: "guest_memfd", errno: errno)
        }
        self.base = address
        self.size = length
        self.memfd = memfd
    }

    deinit {
        // SAFETY: `base`/`size` are exactly what mmap returned; unmapped once, here.
        _ = munmap(base, size)
    }
}
