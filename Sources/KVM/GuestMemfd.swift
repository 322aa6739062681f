#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CKVM

/// A guest_memfd (from KVM_CREATE_GUEST_MEMFD): the file that holds a VM's private memory
/// (and, with `.mmap | .initShared`, its shared memory too).
///
/// Owns its descriptor and closes it exactly once, in `deinit`; it keeps its VM alive.
/// Stored state is immutable, so an instance may be shared between threads.
public final class GuestMemfd: Sendable {
    /// The raw descriptor; valid for the lifetime of this object.
    public let fd: Int32
    /// File size in bytes, as created.
    public let size: UInt64
    /// The flags it was created with.
    public let flags: GuestMemfdFlags
    /// The VM this guest_memfd belongs to (a guest_memfd binds only to memslots of its VM).
    public let vm: VirtualMachine

    init(adopting fd: Int32, size: UInt64, flags: GuestMemfdFlags, vm: VirtualMachine) {
        self.fd = fd
        self.size = size
        self.flags = flags
        self.vm = vm
    }

    deinit { closeOwned(fd) }

    /// mmap(MAP_SHARED) of the whole file (guest_memfd mmap, needs GUEST_MEMFD_FLAG_MMAP;
    /// touching pages needs GUEST_MEMFD_FLAG_INIT_SHARED, or the host gets SIGBUS).
    public func map() throws(KVMError) -> GuestMapping {
        guard flags.contains(.mmap) else {
            throw .invalidArgument("guest_memfd was created without GUEST_MEMFD_FLAG_MMAP")
        }
        return try GuestMapping(memfd: self)
    }

    /// fallocate(FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE) on the guest_memfd: frees the
    /// page-aligned range; KVM zaps its mappings and later faults see fresh zero pages.
    public func punchHole(offset: UInt64, length: UInt64) throws(KVMError) {
        guard offset <= size, length <= size - offset else {
            throw .invalidArgument("punchHole [\(offset), +\(length)) outside a guest_memfd of \(size) bytes")
        }
        // SAFETY: plain syscall on an fd this object owns; no memory is passed.
        if ckvm_punch_hole(fd, Int64(offset), Int64(length)) != 0 {
            throw .system(call: "fallocate(PUNCH_HOLE|KEEP_SIZE)", errno: errno)
        }
    }
}
