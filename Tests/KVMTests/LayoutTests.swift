import CKVM
import XCTest

@testable import KVM

/// Structure layouts against the documented ABI (docs/abi.md §4–§5), seen from
/// Swift (MemoryLayout) and from C (offsetof constants in ckvm.h).
final class LayoutTests: XCTestCase {
    func testGuestMemfdStructures() {
        XCTAssertEqual(MemoryLayout<ckvm_create_guest_memfd>.size, 64)
        XCTAssertEqual(MemoryLayout<ckvm_create_guest_memfd>.offset(of: \.flags), 8)
        XCTAssertEqual(MemoryLayout<ckvm_create_guest_memfd>.offset(of: \.reserved), 16)
        XCTAssertEqual(Int(CKVM_SIZEOF_CREATE_GUEST_MEMFD), 64)

        XCTAssertEqual(MemoryLayout<ckvm_userspace_memory_region2>.size, 160)
        XCTAssertEqual(MemoryLayout<ckvm_userspace_memory_region2>.offset(of: \.guest_phys_addr), 8)
        XCTAssertEqual(MemoryLayout<ckvm_userspace_memory_region2>.offset(of: \.memory_size), 16)
        XCTAssertEqual(MemoryLayout<ckvm_userspace_memory_region2>.offset(of: \.userspace_addr), 24)
        XCTAssertEqual(MemoryLayout<ckvm_userspace_memory_region2>.offset(of: \.guest_memfd_offset), 32)
        XCTAssertEqual(MemoryLayout<ckvm_userspace_memory_region2>.offset(of: \.guest_memfd), 40)
        XCTAssertEqual(MemoryLayout<ckvm_userspace_memory_region2>.offset(of: \.pad2), 48)
        XCTAssertEqual(Int(CKVM_SIZEOF_REGION2), 160)
        XCTAssertEqual(Int(CKVM_OFFSETOF_REGION2_GUEST_MEMFD_OFFSET), 32)
        XCTAssertEqual(Int(CKVM_OFFSETOF_REGION2_GUEST_MEMFD), 40)

        XCTAssertEqual(MemoryLayout<ckvm_memory_attributes>.size, 32)
        XCTAssertEqual(MemoryLayout<ckvm_memory_attributes>.offset(of: \.attributes), 16)
        XCTAssertEqual(Int(CKVM_SIZEOF_MEMORY_ATTRIBUTES), 32)
        XCTAssertEqual(MemoryLayout<ckvm_pre_fault_memory>.size, 64)
    }

    func testKVMRunLayout() {
        XCTAssertEqual(MemoryLayout<kvm_run>.size, 2352)
        XCTAssertEqual(MemoryLayout<kvm_run>.offset(of: \.immediate_exit), 1)
        XCTAssertEqual(MemoryLayout<kvm_run>.offset(of: \.exit_reason), 8)
        XCTAssertEqual(MemoryLayout<kvm_run>.offset(of: \.kvm_valid_regs), 288)
        XCTAssertEqual(MemoryLayout<kvm_run>.offset(of: \.kvm_dirty_regs), 296)
        XCTAssertEqual(MemoryLayout<kvm_run>.offset(of: \.s), 304)
        XCTAssertEqual(Int(CKVM_OFFSETOF_RUN_IMMEDIATE_EXIT), 1)
        XCTAssertEqual(Int(CKVM_OFFSETOF_RUN_EXIT_REASON), 8)
        XCTAssertEqual(Int(CKVM_OFFSETOF_RUN_EXIT_UNION), 32)
        XCTAssertEqual(Int(CKVM_RUN_EXIT_OFFSET), 32)
        XCTAssertEqual(Int(CKVM_OFFSETOF_RUN_VALID_REGS), 288)
        XCTAssertEqual(Int(CKVM_OFFSETOF_RUN_DIRTY_REGS), 296)
        XCTAssertEqual(Int(CKVM_OFFSETOF_RUN_SYNC_REGS), 304)
        XCTAssertEqual(Int(CKVM_SIZEOF_RUN), 2352)
        XCTAssertEqual(MemoryLayout<kvm_sync_regs>.offset(of: \.sregs), MemoryLayout<kvm_regs>.size)
    }

    /// Exit views: offsets inside the union, plus 32 = the kvm_run offsets docs/abi.md lists
    /// (§1.3, §4.5, §5.2–§5.4).
    func testExitViewLayouts() {
        let base = Int(CKVM_RUN_EXIT_OFFSET)
        XCTAssertEqual(MemoryLayout<ckvm_exit_io>.size, 16)
        XCTAssertEqual(MemoryLayout<ckvm_exit_io>.offset(of: \.port), 2)
        XCTAssertEqual(MemoryLayout<ckvm_exit_io>.offset(of: \.count), 4)
        XCTAssertEqual(MemoryLayout<ckvm_exit_io>.offset(of: \.data_offset), 8)
        XCTAssertEqual(MemoryLayout<ckvm_exit_mmio>.offset(of: \.data), 8)
        XCTAssertEqual(MemoryLayout<ckvm_exit_mmio>.offset(of: \.len), 16)
        XCTAssertEqual(MemoryLayout<ckvm_exit_mmio>.offset(of: \.is_write), 20)

        XCTAssertEqual(base + MemoryLayout<ckvm_exit_hypercall>.offset(of: \.nr)!, 32)
        XCTAssertEqual(base + MemoryLayout<ckvm_exit_hypercall>.offset(of: \.args)!, 40)
        XCTAssertEqual(base + MemoryLayout<ckvm_exit_hypercall>.offset(of: \.ret)!, 88)
        XCTAssertEqual(base + MemoryLayout<ckvm_exit_hypercall>.offset(of: \.flags)!, 96)
        XCTAssertEqual(Int(CKVM_OFFSETOF_HYPERCALL_RET), 56)
        XCTAssertEqual(Int(CKVM_OFFSETOF_HYPERCALL_FLAGS), 64)

        XCTAssertEqual(base + MemoryLayout<ckvm_exit_msr>.offset(of: \.error)!, 32)
        XCTAssertEqual(base + MemoryLayout<ckvm_exit_msr>.offset(of: \.reason)!, 40)
        XCTAssertEqual(base + MemoryLayout<ckvm_exit_msr>.offset(of: \.index)!, 44)
        XCTAssertEqual(base + MemoryLayout<ckvm_exit_msr>.offset(of: \.data)!, 48)
        XCTAssertEqual(Int(CKVM_OFFSETOF_MSR_INDEX), 12)
        XCTAssertEqual(Int(CKVM_OFFSETOF_MSR_DATA), 16)

        XCTAssertEqual(base + MemoryLayout<ckvm_exit_debug>.offset(of: \.exception)!, 32)
        XCTAssertEqual(base + MemoryLayout<ckvm_exit_debug>.offset(of: \.pc)!, 40)
        XCTAssertEqual(base + MemoryLayout<ckvm_exit_debug>.offset(of: \.dr6)!, 48)
        XCTAssertEqual(base + MemoryLayout<ckvm_exit_debug>.offset(of: \.dr7)!, 56)
        XCTAssertEqual(Int(CKVM_OFFSETOF_DEBUG_PC), 8)
        // Our debug view matches the 6.1 header's struct kvm_debug_exit_arch.
        XCTAssertEqual(MemoryLayout<ckvm_exit_debug>.size, MemoryLayout<kvm_debug_exit_arch>.size)

        XCTAssertEqual(MemoryLayout<ckvm_exit_memory_fault>.size, 24)
        XCTAssertEqual(base + MemoryLayout<ckvm_exit_memory_fault>.offset(of: \.gpa)!, 40)
        XCTAssertEqual(base + MemoryLayout<ckvm_exit_memory_fault>.offset(of: \.size)!, 48)
        XCTAssertEqual(MemoryLayout<ckvm_exit_internal>.size, 136)
        XCTAssertEqual(MemoryLayout<ckvm_exit_system_event>.size, 136)
        // Every view fits inside the 256-byte exit union.
        for size in [
            MemoryLayout<ckvm_exit_hypercall>.size, MemoryLayout<ckvm_exit_internal>.size,
            MemoryLayout<ckvm_exit_system_event>.size,
        ] {
            XCTAssertLessThanOrEqual(base + size, Int(CKVM_OFFSETOF_RUN_VALID_REGS))
        }
    }

    func testOldBasicsAndDebug() {
        XCTAssertEqual(MemoryLayout<kvm_regs>.size, 144)
        XCTAssertEqual(MemoryLayout<kvm_sregs>.size, 312)
        XCTAssertEqual(MemoryLayout<kvm_guest_debug>.size, 72)
        XCTAssertEqual(MemoryLayout<kvm_guest_debug>.offset(of: \.arch), 8)
        XCTAssertEqual(MemoryLayout<kvm_enable_cap>.size, 104)
        XCTAssertEqual(MemoryLayout<kvm_enable_cap>.offset(of: \.args), 8)
        XCTAssertEqual(MemoryLayout<kvm_cpuid_entry2>.size, 40)
    }

    func testEncryptOpStructures() {
        XCTAssertEqual(MemoryLayout<ckvm_sev_cmd>.size, 24)
        XCTAssertEqual(MemoryLayout<ckvm_sev_cmd>.offset(of: \.data), 8)
        XCTAssertEqual(MemoryLayout<ckvm_sev_cmd>.offset(of: \.error), 16)
        XCTAssertEqual(MemoryLayout<ckvm_sev_cmd>.offset(of: \.sev_fd), 20)
        XCTAssertEqual(MemoryLayout<ckvm_sev_snp_launch_update>.size, 64)
        XCTAssertEqual(MemoryLayout<ckvm_sev_snp_launch_update>.offset(of: \.uaddr), 8)
        XCTAssertEqual(MemoryLayout<ckvm_sev_snp_launch_update>.offset(of: \.len), 16)
        XCTAssertEqual(MemoryLayout<ckvm_sev_snp_launch_update>.offset(of: \.type), 24)
        XCTAssertEqual(MemoryLayout<ckvm_sev_snp_launch_update>.offset(of: \.flags), 26)
        XCTAssertEqual(MemoryLayout<ckvm_sev_snp_launch_update>.offset(of: \.pad1), 28)
        XCTAssertEqual(MemoryLayout<ckvm_sev_snp_launch_update>.offset(of: \.pad2), 32)
        XCTAssertEqual(Int(CKVM_SIZEOF_SNP_UPDATE), 64)
        XCTAssertEqual(Int(CKVM_OFFSETOF_SNP_UPDATE_TYPE), 24)
        XCTAssertEqual(MemoryLayout<ckvm_tdx_cmd>.size, 24)
        XCTAssertEqual(MemoryLayout<ckvm_tdx_cmd>.offset(of: \.data), 8)
        XCTAssertEqual(MemoryLayout<ckvm_tdx_cmd>.offset(of: \.hw_error), 16)
        XCTAssertEqual(MemoryLayout<ckvm_tdx_init_mem_region>.size, 24)
        XCTAssertEqual(MemoryLayout<ckvm_tdx_init_mem_region>.offset(of: \.nr_pages), 16)
        XCTAssertEqual(Int(CKVM_SIZEOF_SEV_CMD), 24)
        XCTAssertEqual(Int(CKVM_SIZEOF_TDX_CMD), 24)
        XCTAssertEqual(Int(CKVM_SIZEOF_TDX_INIT_MEM_REGION), 24)
    }
}
