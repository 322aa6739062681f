/// Host memory that can back guest memory: a base address and a size, with
/// bounds-checked copy helpers. Implemented by `GuestMapping` and `MemoryMapping`.
public protocol HostMemory: AnyObject {
    /// First byte of the mapping.
    var base: UnsafeMutableRawPointer { get }
    /// Length of the mapping in bytes.
    var size: Int { get }
}

extension HostMemory {
    /// The mapping's address as a memslot's `userspace_addr`.
    public var userspaceAddress: UInt64 { UInt64(UInt(bitPattern: base)) }

    /// Checks that `[offset, offset + count)` lies inside the mapping.
    public func checkRange(offset: Int, count: Int) throws(KVMError) {
        guard offset >= 0, count >= 0, offset <= size, count <= size - offset else {
            throw .invalidArgument("range [\(offset), +\(count)) outside a mapping of \(size) bytes")
        }
    }

    /// Copies `bytes` into the mapping at `offset`.
    public func write(_ bytes: UnsafeRawBufferPointer, at offset: Int) throws(KVMError) {
        try checkRange(offset: offset, count: bytes.count)
        guard let source = bytes.baseAddress, bytes.count > 0 else { return }
        // SAFETY: the destination range was bounds-checked against this live mapping.
        (base + offset).copyMemory(from: source, byteCount: bytes.count)
    }

    /// Copies `bytes` into the mapping at `offset`.
    public func write(_ bytes: [UInt8], at offset: Int) throws(KVMError) {
        try checkRange(offset: offset, count: bytes.count)
        let destination = base + offset
        // SAFETY: the destination range was bounds-checked against this live mapping.
        bytes.withUnsafeBytes { raw in
            if let source = raw.baseAddress { destination.copyMemory(from: source, byteCount: raw.count) }
        }
    }

    /// Copies `destination.count` bytes out of the mapping at `offset`.
    public func read(into destination: UnsafeMutableRawBufferPointer, at offset: Int) throws(KVMError) {
        try checkRange(offset: offset, count: destination.count)
        guard let target = destination.baseAddress, destination.count > 0 else { return }
        // SAFETY: the source range was bounds-checked against this live mapping.
        target.copyMemory(from: base + offset, byteCount: destination.count)
    }

    /// Returns a copy of `count` bytes of the mapping at `offset`.
    public func read(at offset: Int, count: Int) throws(KVMError) -> [UInt8] {
        try checkRange(offset: offset, count: count)
        // SAFETY: the source range was bounds-checked against this live mapping.
        return Array(UnsafeRawBufferPointer(start: base + offset, count: count))
    }
}

#if canImport(Glibc)
import Glibc
#endif

extension HostMemory {
    /// mprotect of the page-aligned `[offset, offset + length)`: what a memslot over this
    /// mapping lets the guest do there (an access the protection forbids comes back as
    /// KVM_EXIT_MMIO on this host: docs/host-findings.md §5).
    public func protect(offset: Int, length: Int, readWrite: Bool) throws(KVMError) {
        try checkRange(offset: offset, count: length)
        // SAFETY: the range was bounds-checked against this live mapping.
        if mprotect(base + offset, length, readWrite ? PROT_READ | PROT_WRITE : PROT_NONE) != 0 {
            throw .system(call: "mprotect", errno: errno)
        }
    }
}
