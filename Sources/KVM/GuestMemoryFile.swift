import CKVM

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A file that holds guest RAM, mapped by the host and bound to memslots: a `GuestMemfd`
/// where the kernel offers one a default VM can use, else a `Memfd` stand-in behind plain
/// memslots. Both give the runner the same bytes, the same shared mappings (one per view)
/// and the same destructive discard, which is all it needs: on a default VM KVM enforces
/// no private memory either way, and the page-state model is the runner's own.
public protocol GuestMemoryFile: AnyObject, Sendable {
    /// The raw descriptor; valid for the lifetime of the object.
    var fd: Int32 { get }
    /// File size in bytes, as created.
    var size: UInt64 { get }
    /// A new mmap(MAP_SHARED) of the whole file; each call gives a mapping of its own, so
    /// each view of guest memory can have its own protection.
    func map() throws(KVMError) -> GuestMapping
}

extension GuestMemoryFile {
    /// fallocate(FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE): frees the page-aligned range
    /// (the destructive half of a conversion); every mapping then reads fresh zero pages
    /// there. guest_memfd also zaps KVM's own mappings of it; for a memfd the kernel
    /// unmaps the range from every process mapping, memslots' included.
    ///
    /// Whole 4 KiB pages only, for both kinds: guest_memfd refuses anything else (EINVAL),
    /// while shmem would zero a partial page in place, which no conversion does.
    public func punchHole(offset: UInt64, length: UInt64) throws(KVMError) {
        guard offset <= size, length <= size - offset else {
            throw .invalidArgument("punchHole [\(offset), +\(length)) outside a file of \(size) bytes")
        }
        let page: UInt64 = 4096
        guard offset % page == 0, length % page == 0 else {
            throw .invalidArgument("punchHole [\(offset), +\(length)) is not whole 4 KiB pages")
        }
        // SAFETY: plain syscall on an fd this object owns; no memory is passed.
        if ckvm_punch_hole(fd, Int64(offset), Int64(length)) != 0 {
            throw .system(call: "fallocate(PUNCH_HOLE|KEEP_SIZE)", errno: errno)
        }
    }
}

/// A memfd (memfd_create, then ftruncate to `size`): guest RAM on kernels whose default VMs
/// have no guest_memfd (before Linux 6.18, and wherever the capability is masked).
///
/// Owns its descriptor and closes it exactly once, in `deinit`. Immutable, so `Sendable`.
public final class Memfd: GuestMemoryFile {
    public let fd: Int32
    public let size: UInt64

    /// memfd_create(`name`, MFD_CLOEXEC) sized to `size` bytes, which read as zero.
    public init(name: String, size: UInt64) throws(KVMError) {
        guard size > 0, size <= UInt64(Int64.max) else { throw .invalidArgument("memfd size must be positive (got \(size))") }
        let fd = ckvm_memfd_create(name, CKVM_MFD_CLOEXEC)
        guard fd >= 0 else { throw .system(call: "memfd_create", errno: errno) }
        guard ftruncate(fd, off_t(size)) == 0 else {
            let saved = errno
            closeOwned(fd)
            throw .system(call: "ftruncate", errno: saved)
        }
        self.fd = fd
        self.size = size
    }

    deinit { closeOwned(fd) }

    public func map() throws(KVMError) -> GuestMapping { try GuestMapping(file: self) }
}
