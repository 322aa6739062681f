import CKVM

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The system file descriptor (`/dev/kvm`): capability checks, CPUID, and VM creation.
///
/// Owns its descriptor and closes it exactly once, in `deinit`. Every method is a single
/// ioctl on an fd that is never changed after `init`, so an instance may be shared between
/// threads freely (hence `Sendable`).
public final class KVMSystem: Sendable {
    /// The raw descriptor; valid for the lifetime of this object.
    public let fd: Int32

    /// Opens the KVM device (`open(path, O_RDWR | O_CLOEXEC)`) and checks KVM_GET_API_VERSION == 12.
    public init(path: String = "/dev/kvm") throws(KVMError) {
        fd = try openReadWrite(path)
        let version = try kvmIoctl(fd, CKVM_IOCTL_GET_API_VERSION, "KVM_GET_API_VERSION")
        if version != 12 { throw .unsupportedAPIVersion(version) }
    }

    /// Opens the KVM device; the same as `init(path:)`.
    public static func open(path: String = "/dev/kvm") throws(KVMError) -> KVMSystem {
        try KVMSystem(path: path)
    }

    deinit { closeOwned(fd) }

    /// KVM_GET_API_VERSION: the KVM API version (12 on every kernel since 2.6.22).
    public var apiVersion: Int32 {
        get throws(KVMError) { try kvmIoctl(fd, CKVM_IOCTL_GET_API_VERSION, "KVM_GET_API_VERSION") }
    }

    /// KVM_CHECK_EXTENSION on /dev/kvm: 0 when absent, otherwise a capability-specific value.
    public func check(_ capability: Capability) throws(KVMError) -> Int {
        Int(try kvmIoctl(fd, CKVM_IOCTL_CHECK_EXTENSION, "KVM_CHECK_EXTENSION", value: UInt(capability.rawValue)))
    }

    /// KVM_GET_VCPU_MMAP_SIZE: bytes to mmap from a vCPU fd (kvm_run plus any extra pages).
    public var vcpuMmapSize: Int {
        get throws(KVMError) { Int(try kvmIoctl(fd, CKVM_IOCTL_GET_VCPU_MMAP_SIZE, "KVM_GET_VCPU_MMAP_SIZE")) }
    }

    /// KVM_GET_SUPPORTED_CPUID: the CPUID leaves KVM can expose to a guest, growing the
    /// buffer while the kernel answers E2BIG.
    public func supportedCPUID() throws(KVMError) -> [CPUIDEntry] {
        var capacity = 128
        while true {
            let buffer = CPUIDBuffer(capacity: capacity)
            do {
                _ = try kvmIoctl(fd, CKVM_IOCTL_GET_SUPPORTED_CPUID, "KVM_GET_SUPPORTED_CPUID", buffer.raw)
                return buffer.entries
            } catch {
                if error.errno == E2BIG && capacity < 4096 { capacity *= 2; continue }
                throw error
            }
        }
    }

    /// KVM_CREATE_VM with the given machine type; returns the VM's fd owner.
    public func createVM(type: VMType = .default) throws(KVMError) -> VirtualMachine {
        let vmfd = try kvmIoctl(fd, CKVM_IOCTL_CREATE_VM, "KVM_CREATE_VM", value: UInt(type.rawValue))
        let mmapSize: Int
        do { mmapSize = try vcpuMmapSize } catch { closeOwned(vmfd); throw error }
        return VirtualMachine(adopting: vmfd, type: type, vcpuMmapSize: mmapSize, system: self)
    }
}

/// A heap `struct kvm_cpuid2` with room for `capacity` entries (the flexible array member
/// Swift cannot declare). Freed on deinit.
final class CPUIDBuffer {
    let raw: UnsafeMutableRawPointer
    let capacity: Int
    private static let headerSize = 8

    init(capacity: Int) {
        self.capacity = capacity
        let bytes = Self.headerSize + capacity * MemoryLayout<CPUIDEntry>.stride
        // SAFETY: a fresh allocation, zeroed before use, freed exactly once in deinit.
        raw = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 8)
        raw.initializeMemory(as: UInt8.self, repeating: 0, count: bytes)
        // SAFETY: writes nent, the first 4 bytes of the zeroed kvm_cpuid2 header.
        raw.storeBytes(of: UInt32(capacity), as: UInt32.self)
    }

    convenience init(entries: [CPUIDEntry]) {
        self.init(capacity: entries.count)
        // SAFETY: `capacity` == entries.count slots follow the 8-byte header.
        let base = (raw + Self.headerSize).bindMemory(to: CPUIDEntry.self, capacity: capacity)
        for (i, entry) in entries.enumerated() { base[i] = entry }
    }

    /// The entries the kernel filled in (`nent` after the call).
    var entries: [CPUIDEntry] {
        // SAFETY: reads nent from the 8-byte header of this live buffer.
        let count = min(Int(raw.load(as: UInt32.self)), capacity)
        // SAFETY: the buffer holds `capacity` entries past the 8-byte header; `count` <= capacity.
        let base = (raw + Self.headerSize).bindMemory(to: CPUIDEntry.self, capacity: capacity)
        return Array(UnsafeBufferPointer(start: base, count: count))
    }

    deinit {
        // SAFETY: `raw` came from allocate in init and is freed only here.
        raw.deallocate()
    }
}
