import CKVM
import XCTest

/// Every ioctl number in ckvm.h against the _IOC formula of <asm-generic/ioctl.h>:
/// dir << 30 | size << 16 | type << 8 | nr, with _IOW = 1, _IOR = 2, _IOWR = 3, type 0xAE.
final class IoctlNumberTests: XCTestCase {
    private func ioc(_ direction: UInt, _ nr: UInt, _ size: Int) -> UInt {
        direction << 30 | UInt(size) << 16 | 0xAE << 8 | nr
    }
    private func io(_ nr: UInt) -> UInt { ioc(0, nr, 0) }
    private func iow(_ nr: UInt, _ size: Int) -> UInt { ioc(1, nr, size) }
    private func ior(_ nr: UInt, _ size: Int) -> UInt { ioc(2, nr, size) }
    private func iowr(_ nr: UInt, _ size: Int) -> UInt { ioc(3, nr, size) }

    func testNewerIoctlsMatchDocumentedValues() {
        XCTAssertEqual(CKVM_IOCTL_CREATE_GUEST_MEMFD, iowr(0xd4, MemoryLayout<ckvm_create_guest_memfd>.size))
        XCTAssertEqual(CKVM_IOCTL_CREATE_GUEST_MEMFD, 0xC040_AED4)
        XCTAssertEqual(CKVM_IOCTL_SET_USER_MEMORY_REGION2, iow(0x49, MemoryLayout<ckvm_userspace_memory_region2>.size))
        XCTAssertEqual(CKVM_IOCTL_SET_USER_MEMORY_REGION2, 0x40A0_AE49)
        XCTAssertEqual(CKVM_IOCTL_SET_MEMORY_ATTRIBUTES, iow(0xd2, MemoryLayout<ckvm_memory_attributes>.size))
        XCTAssertEqual(CKVM_IOCTL_SET_MEMORY_ATTRIBUTES, 0x4020_AED2)
        XCTAssertEqual(CKVM_IOCTL_PRE_FAULT_MEMORY, iowr(0xd5, MemoryLayout<ckvm_pre_fault_memory>.size))
        XCTAssertEqual(CKVM_IOCTL_PRE_FAULT_MEMORY, 0xC040_AED5)
        XCTAssertEqual(CKVM_IOCTL_MEMORY_ENCRYPT_OP, iowr(0xba, MemoryLayout<UInt>.size))
        XCTAssertEqual(CKVM_IOCTL_MEMORY_ENCRYPT_OP, 0xC008_AEBA)
        XCTAssertEqual(CKVM_IOCTL_ENABLE_CAP, iow(0xa3, MemoryLayout<kvm_enable_cap>.size))
        XCTAssertEqual(CKVM_IOCTL_ENABLE_CAP, 0x4068_AEA3)
        XCTAssertEqual(CKVM_IOCTL_SET_GUEST_DEBUG, iow(0x9b, MemoryLayout<kvm_guest_debug>.size))
        XCTAssertEqual(CKVM_IOCTL_SET_GUEST_DEBUG, 0x4048_AE9B)
        // Documentation/virt/kvm/api.rst 4.31/4.32: _IOR 0x9f / _IOW 0xa0, struct kvm_vcpu_events.
        XCTAssertEqual(MemoryLayout<kvm_vcpu_events>.size, 64)
        XCTAssertEqual(CKVM_IOCTL_GET_VCPU_EVENTS, ior(0x9f, MemoryLayout<kvm_vcpu_events>.size))
        XCTAssertEqual(CKVM_IOCTL_SET_VCPU_EVENTS, iow(0xa0, MemoryLayout<kvm_vcpu_events>.size))
        // api.rst 4.33/4.34: _IOR 0xa1 / _IOW 0xa2, struct kvm_debugregs (db[4], dr6, dr7, flags, reserved[9]).
        XCTAssertEqual(MemoryLayout<kvm_debugregs>.size, 128)
        XCTAssertEqual(CKVM_IOCTL_GET_DEBUGREGS, ior(0xa1, MemoryLayout<kvm_debugregs>.size))
        XCTAssertEqual(CKVM_IOCTL_SET_DEBUGREGS, iow(0xa2, MemoryLayout<kvm_debugregs>.size))
        // api.rst "KVM_GET_MSRS" / "KVM_SET_MSRS": _IOWR 0x88 / _IOW 0x89, struct kvm_msrs (nmsrs, pad).
        XCTAssertEqual(MemoryLayout<kvm_msrs>.size, 8)
        XCTAssertEqual(MemoryLayout<kvm_msr_entry>.size, 16)
        XCTAssertEqual(CKVM_IOCTL_GET_MSRS, iowr(0x88, MemoryLayout<kvm_msrs>.size))
        XCTAssertEqual(CKVM_IOCTL_SET_MSRS, iow(0x89, MemoryLayout<kvm_msrs>.size))
        // api.rst "KVM_X86_SET_MSR_FILTER": _IOW 0xc6, struct kvm_msr_filter (flags, 16 ranges of
        // flags, nmsrs, base, bitmap pointer).
        XCTAssertEqual(MemoryLayout<kvm_msr_filter>.size, 392)
        XCTAssertEqual(CKVM_IOCTL_X86_SET_MSR_FILTER, iow(0xc6, MemoryLayout<kvm_msr_filter>.size))
        XCTAssertEqual(CKVM_IOCTL_X86_SET_MSR_FILTER, 0x4188_AEC6)
    }

    func testBasicIoctls() {
        XCTAssertEqual(CKVM_IOCTL_GET_API_VERSION, io(0x00))
        XCTAssertEqual(CKVM_IOCTL_CREATE_VM, io(0x01))
        XCTAssertEqual(CKVM_IOCTL_CHECK_EXTENSION, io(0x03))
        XCTAssertEqual(CKVM_IOCTL_GET_VCPU_MMAP_SIZE, io(0x04))
        XCTAssertEqual(CKVM_IOCTL_GET_SUPPORTED_CPUID, iowr(0x05, 8))
        XCTAssertEqual(CKVM_IOCTL_CREATE_VCPU, io(0x41))
        XCTAssertEqual(CKVM_IOCTL_SET_USER_MEMORY_REGION, iow(0x46, MemoryLayout<kvm_userspace_memory_region>.size))
        XCTAssertEqual(CKVM_IOCTL_RUN, io(0x80))
        XCTAssertEqual(CKVM_IOCTL_GET_REGS, ior(0x81, MemoryLayout<kvm_regs>.size))
        XCTAssertEqual(CKVM_IOCTL_SET_REGS, iow(0x82, MemoryLayout<kvm_regs>.size))
        XCTAssertEqual(CKVM_IOCTL_GET_SREGS, ior(0x83, MemoryLayout<kvm_sregs>.size))
        XCTAssertEqual(CKVM_IOCTL_SET_SREGS, iow(0x84, MemoryLayout<kvm_sregs>.size))
        XCTAssertEqual(CKVM_IOCTL_SET_CPUID2, iow(0x90, 8))
        XCTAssertEqual(CKVM_IOCTL_GET_MP_STATE, ior(0x98, MemoryLayout<kvm_mp_state>.size))
        XCTAssertEqual(CKVM_IOCTL_SET_MP_STATE, iow(0x99, MemoryLayout<kvm_mp_state>.size))
    }

    /// Numbers from docs/abi.md §4–§5 that are not ioctls.
    func testCapabilityExitAndFlagNumbers() {
        XCTAssertEqual(CKVM_CAP_SYNC_REGS, 74)
        XCTAssertEqual(CKVM_CAP_X86_USER_SPACE_MSR, 188)
        XCTAssertEqual(CKVM_CAP_SET_GUEST_DEBUG2, 195)
        XCTAssertEqual(CKVM_CAP_EXIT_HYPERCALL, 201)
        XCTAssertEqual(CKVM_CAP_DISABLE_QUIRKS2, 213)
        XCTAssertEqual(CKVM_CAP_USER_MEMORY2, 231)
        XCTAssertEqual(CKVM_CAP_MEMORY_FAULT_INFO, 232)
        XCTAssertEqual(CKVM_CAP_MEMORY_ATTRIBUTES, 233)
        XCTAssertEqual(CKVM_CAP_GUEST_MEMFD, 234)
        XCTAssertEqual(CKVM_CAP_VM_TYPES, 235)
        XCTAssertEqual(CKVM_CAP_PRE_FAULT_MEMORY, 236)
        XCTAssertEqual(CKVM_CAP_GUEST_MEMFD_FLAGS, 244)
        XCTAssertEqual(CKVM_EXIT_X86_RDMSR, 29)
        XCTAssertEqual(CKVM_EXIT_X86_WRMSR, 30)
        XCTAssertEqual(CKVM_EXIT_MEMORY_FAULT, 39)
        XCTAssertEqual(CKVM_EXIT_DEBUG, 4)
        XCTAssertEqual(CKVM_EXIT_HYPERCALL, 3)
        XCTAssertEqual(CKVM_GUEST_MEMFD_FLAG_MMAP, 1)
        XCTAssertEqual(CKVM_GUEST_MEMFD_FLAG_INIT_SHARED, 2)
        XCTAssertEqual(CKVM_MEM_GUEST_MEMFD, 4)
        XCTAssertEqual(CKVM_MEMORY_ATTRIBUTE_PRIVATE, 8)
        XCTAssertEqual(CKVM_MEMORY_EXIT_FLAG_PRIVATE, 8)
        XCTAssertEqual(CKVM_X86_QUIRK_FIX_HYPERCALL_INSN, 0x20)
        XCTAssertEqual(CKVM_GUESTDBG_USE_HW_BP, 0x20000)
        XCTAssertEqual(CKVM_MSR_EXIT_REASON_UNKNOWN, 2)
        XCTAssertEqual(CKVM_SEV_SNP_LAUNCH_UPDATE, 101)
        XCTAssertEqual(CKVM_TDX_INIT_MEM_REGION, 3)
        XCTAssertEqual(CKVM_X86_SNP_VM, 4)
        XCTAssertEqual(CKVM_X86_TDX_VM, 5)
    }
}
