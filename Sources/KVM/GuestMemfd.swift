import CKVM

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A guest_memfd (from KVM_CREATE_GUEST_MEMFD): the file that holds a VM's private memory
/// (and, with `.mmap | .initShared`, its shared memory too).
///
/// Owns its descriptor and closes it exactly once, in `deinit`; it keeps its VM alive.
/// Stored state is immutable, so an instance may be shared between threads.
public final class GuestMemfd: GuestMemoryFile {
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
        return try GuestMapping(file: self)
    }
}
