import CKVM

/// A VM file descriptor: memslots, guest_memfd, capabilities, vCPUs, and encryption commands.
///
/// Owns its descriptor and closes it exactly once, in `deinit`; it keeps the `KVMSystem` it
/// came from alive. Its stored state never changes after creation and every method is one
/// or a few ioctls that KVM serialises itself, so an instance may be shared between threads
/// (hence `Sendable`). Memory registered in a memslot is *not* retained: the caller keeps
/// each `GuestMapping`/`MemoryMapping` alive while a memslot points into it.
public final class VirtualMachine: Sendable {
    /// The raw VM descriptor; valid for the lifetime of this object.
    public let fd: Int32
    /// The machine type this VM was created with.
    public let type: VMType
    /// The system object this VM was created from.
    public let system: KVMSystem
    /// KVM_GET_VCPU_MMAP_SIZE, read once when the VM was created.
    let vcpuMmapSize: Int

    init(adopting fd: Int32, type: VMType, vcpuMmapSize: Int, system: KVMSystem) {
        self.fd = fd
        self.type = type
        self.vcpuMmapSize = vcpuMmapSize
        self.system = system
    }

    deinit { closeOwned(fd) }

    /// KVM_CHECK_EXTENSION on the VM fd (answers for this VM's type, e.g. GUEST_MEMFD_FLAGS).
    public func check(_ capability: Capability) throws(KVMError) -> Int {
        Int(try kvmIoctl(fd, CKVM_IOCTL_CHECK_EXTENSION, "KVM_CHECK_EXTENSION", value: UInt(capability.rawValue)))
    }

    /// KVM_ENABLE_CAP on the VM fd with up to four arguments.
    public func enableCapability(_ capability: Capability, args: [UInt64] = []) throws(KVMError) {
        guard args.count <= 4 else { throw .invalidArgument("KVM_ENABLE_CAP takes at most 4 args") }
        var request = kvm_enable_cap()
        request.cap = capability.rawValue
        withUnsafeMutableBytes(of: &request.args) { raw in
            // SAFETY: stores stay inside the fixed-size C array; the count was checked above.
            for (i, value) in args.enumerated() { raw.storeBytes(of: value, toByteOffset: i * 8, as: UInt64.self) }
        }
        _ = try kvmIoctl(fd, CKVM_IOCTL_ENABLE_CAP, "KVM_ENABLE_CAP", &request)
    }

    /// KVM_ENABLE_CAP(KVM_CAP_DISABLE_QUIRKS2, quirks): turns the given x86 quirks off.
    public func disableQuirks(_ quirks: Quirks) throws(KVMError) {
        try enableCapability(.disableQuirks2, args: [quirks.rawValue])
    }

    /// KVM_ENABLE_CAP(KVM_CAP_X86_USER_SPACE_MSR, reasons): MSR accesses that fail in KVM
    /// for one of `reasons` exit to user space as KVM_EXIT_X86_RDMSR / KVM_EXIT_X86_WRMSR.
    public func enableUserSpaceMSR(_ reasons: MSRExitReasons = .all) throws(KVMError) {
        try enableCapability(.x86UserSpaceMSR, args: [UInt64(reasons.rawValue)])
    }

    /// KVM_ENABLE_CAP(KVM_CAP_EXIT_HYPERCALL, mask): the hypercalls in `mask` (bit n =
    /// hypercall nr n; KVM accepts only 1 << KVM_HC_MAP_GPA_RANGE) exit as KVM_EXIT_HYPERCALL.
    public func enableHypercallExits(mask: UInt64) throws(KVMError) {
        try enableCapability(.exitHypercall, args: [mask])
    }

    /// KVM_CREATE_GUEST_MEMFD: a guest_memfd of `size` bytes (page aligned) with `flags`.
    public func createGuestMemfd(size: UInt64, flags: GuestMemfdFlags = []) throws(KVMError) -> GuestMemfd {
        var request = ckvm_create_guest_memfd()
        request.size = size
        request.flags = flags.rawValue
        let gmemfd = try kvmIoctl(fd, CKVM_IOCTL_CREATE_GUEST_MEMFD, "KVM_CREATE_GUEST_MEMFD", &request)
        return GuestMemfd(adopting: gmemfd, size: size, flags: flags, vm: self)
    }

    /// KVM_SET_USER_MEMORY_REGION2: creates, moves or (size 0) deletes memslot `slot`.
    /// With `.guestMemfd` in `flags`, private accesses are served from `guestMemfd` at
    /// `guestMemfdOffset`; `userspaceAddress` backs shared accesses.
    public func setUserMemoryRegion2(
        slot: UInt32, flags: MemslotFlags = [], guestPhysicalAddress: UInt64, size: UInt64,
        userspaceAddress: UInt64, guestMemfd: GuestMemfd? = nil, guestMemfdOffset: UInt64 = 0
    ) throws(KVMError) {
        var region = ckvm_userspace_memory_region2()
        region.slot = slot
        region.flags = flags.rawValue
        region.guest_phys_addr = guestPhysicalAddress
        region.memory_size = size
        region.userspace_addr = userspaceAddress
        region.guest_memfd_offset = guestMemfdOffset
        region.guest_memfd = UInt32(bitPattern: guestMemfd?.fd ?? 0)
        _ = try kvmIoctl(fd, CKVM_IOCTL_SET_USER_MEMORY_REGION2, "KVM_SET_USER_MEMORY_REGION2", &region)
    }

    /// KVM_SET_USER_MEMORY_REGION (the original memslot ioctl, no guest_memfd).
    public func setUserMemoryRegion(
        slot: UInt32, flags: MemslotFlags = [], guestPhysicalAddress: UInt64, size: UInt64, userspaceAddress: UInt64
    ) throws(KVMError) {
        var region = kvm_userspace_memory_region()
        region.slot = slot
        region.flags = flags.rawValue
        region.guest_phys_addr = guestPhysicalAddress
        region.memory_size = size
        region.userspace_addr = userspaceAddress
        _ = try kvmIoctl(fd, CKVM_IOCTL_SET_USER_MEMORY_REGION, "KVM_SET_USER_MEMORY_REGION", &region)
    }

    /// KVM_SET_MEMORY_ATTRIBUTES: sets `attributes` (e.g. `.private`, or [] for shared) on
    /// the page-aligned GPA range. Only where KVM_CAP_MEMORY_ATTRIBUTES reports them.
    public func setMemoryAttributes(address: UInt64, size: UInt64, attributes: MemoryAttributes) throws(KVMError) {
        var request = ckvm_memory_attributes()
        request.address = address
        request.size = size
        request.attributes = attributes.rawValue
        _ = try kvmIoctl(fd, CKVM_IOCTL_SET_MEMORY_ATTRIBUTES, "KVM_SET_MEMORY_ATTRIBUTES", &request)
    }

    /// KVM_CREATE_VCPU with vCPU `id`, then mmaps its kvm_run area.
    public func createVCPU(id: UInt32 = 0) throws(KVMError) -> VCPU {
        let vcpufd = try kvmIoctl(fd, CKVM_IOCTL_CREATE_VCPU, "KVM_CREATE_VCPU", value: UInt(id))
        return try VCPU(adopting: vcpufd, id: id, mmapSize: vcpuMmapSize, vm: self)
    }
}
