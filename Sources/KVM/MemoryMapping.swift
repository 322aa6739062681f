import CKVM

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// An anonymous shared mapping (mmap MAP_SHARED | MAP_ANONYMOUS) used as a shared backing
/// for guest memory, unmapped exactly once in `deinit`. `@unchecked Sendable` for the same
/// reason as `GuestMapping`: its own state is immutable.
public final class MemoryMapping: HostMemory, @unchecked Sendable {
    public let base: UnsafeMutableRawPointer
    public let size: Int

    /// mmap(NULL, size, RW, MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE).
    public init(size: Int) throws(KVMError) {
        guard size > 0 else { throw .invalidArgument("mapping size must be positive") }
        // SAFETY: new anonymous mapping; the result is checked before use.
        let address = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0)
        guard let address, ckvm_is_map_failed(address) == 0 else {
            throw .mmap(what: "anonymous shared memory", errno: errno)
        }
        self.base = address
        self.size = size
    }

    private init(base: UnsafeMutableRawPointer, size: Int) {
        self.base = base
        self.size = size
    }

    /// Two shared mappings of one new memfd (memfd_create, ftruncate): a view for a memslot
    /// whose protection the runner changes page by page, and the host's own, which always
    /// reads and writes. The fd is closed once both are mapped; the mappings keep the file.
    public static func pair(size: Int, name: String) throws(KVMError) -> (guest: MemoryMapping, host: MemoryMapping) {
        guard size > 0 else { throw .invalidArgument("mapping size must be positive") }
        let fd = ckvm_memfd_create(name, CKVM_MFD_CLOEXEC)
        guard fd >= 0 else { throw .system(call: "memfd_create", errno: errno) }
        defer { _ = close(fd) }
        guard ftruncate(fd, off_t(size)) == 0 else { throw .system(call: "ftruncate", errno: errno) }
        var views: [MemoryMapping] = []
        for _ in 0..<2 {
            // SAFETY: new shared mapping of the memfd just sized; checked before use.
            let address = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, fd, 0)
            guard let address, ckvm_is_map_failed(address) == 0 else { throw .mmap(what: "memfd \(name)", errno: errno) }
            views.append(MemoryMapping(base: address, size: size))
        }
        return (views[0], views[1])
    }

    deinit {
        // SAFETY: `base`/`size` are exactly what mmap returned; unmapped once, here.
        _ = munmap(base, size)
    }

    /// How `discard` releases pages.
    public enum Discard: Sendable {
        /// madvise(MADV_REMOVE): frees the shared backing; later reads see zeroes.
        case remove
        /// madvise(MADV_DONTNEED): drops this process's mapping of the pages.
        case dontNeed
    }

    /// Discards the page-aligned range (the destructive half of a shared→private conversion).
    public func discard(offset: Int, length: Int, how: Discard = .remove) throws(KVMError) {
        try checkRange(offset: offset, count: length)
        let advice = how == .remove ? CKVM_MADV_REMOVE : CKVM_MADV_DONTNEED
        // SAFETY: the range was bounds-checked against this live mapping.
        if madvise(base + offset, length, advice) != 0 {
            throw .system(call: how == .remove ? "madvise(MADV_REMOVE)" : "madvise(MADV_DONTNEED)", errno: errno)
        }
    }
}
