import CKVM

/// Why KVM_RUN returned. Cases that need an answer carry a view into kvm_run (see
/// ExitViews.swift) valid until the vCPU runs again.
public enum VCPUExit {
    /// Direction of a port-I/O exit.
    public enum IODirection: Sendable, Equatable { case `in`, out }

    /// KVM_EXIT_IO: `count` accesses of `size` bytes at `port`; `data` holds size*count bytes.
    case io(port: UInt16, direction: IODirection, size: Int, count: Int, data: ExitBytes)
    /// KVM_EXIT_MMIO: an access of `length` bytes at `address`; `data` holds the bytes.
    case mmio(address: UInt64, isWrite: Bool, length: Int, data: ExitBytes)
    /// KVM_EXIT_HLT.
    case hlt
    /// KVM_EXIT_SHUTDOWN (e.g. a triple fault).
    case shutdown
    /// KVM_EXIT_INTERNAL_ERROR (suberror 1 = emulation failure).
    case internalError(suberror: UInt32, data: InternalErrorData)
    /// KVM_EXIT_FAIL_ENTRY.
    case failEntry(reason: UInt64, cpu: UInt32)
    /// KVM_EXIT_DEBUG: a debug exception; `pc` is the guest RIP (linear) it hit at.
    case debug(exception: UInt32, pc: UInt64, dr6: UInt64, dr7: UInt64)
    /// KVM_EXIT_X86_RDMSR: set `data` (or `error`) and run again.
    case rdmsr(MSRExit)
    /// KVM_EXIT_X86_WRMSR: read `data`; set `error` to refuse it.
    case wrmsr(MSRExit)
    /// KVM_EXIT_HYPERCALL: set `ret` and run again.
    case hypercall(HypercallExit)
    /// KVM_EXIT_MEMORY_FAULT (KVM_RUN failed with EFAULT/EHWPOISON and filled run->memory_fault).
    case memoryFault(flags: MemoryFaultFlags, gpa: UInt64, size: UInt64)
    /// KVM_EXIT_SYSTEM_EVENT.
    case systemEvent(SystemEvent)
    /// KVM_RUN returned EINTR (a kick, or another signal) or KVM_EXIT_INTR.
    case interrupted
    /// An exit reason this module does not decode.
    case unsupported(UInt32)
}

extension VCPUExit {
    /// Decodes the exit KVM left in `run` after a successful KVM_RUN. No allocation.
    @inline(__always)
    static func decode(_ run: UnsafeMutablePointer<kvm_run>) -> VCPUExit {
        // SAFETY: `run` is the live kvm_run of the vCPU that just returned from KVM_RUN.
        let reason = run.pointee.exit_reason
        switch Int32(bitPattern: reason) {
        case CKVM_EXIT_IO:
            // SAFETY: exit_reason is KVM_EXIT_IO, so KVM filled run->io.
            let io = ckvm_run_io(run).pointee
            let length = Int(io.size) * Int(io.count)
            // SAFETY: KVM places the I/O data inside the kvm_run mapping at data_offset.
            let bytes = UnsafeMutableRawBufferPointer(start: UnsafeMutableRawPointer(run) + Int(io.data_offset), count: length)
            return .io(
                port: io.port, direction: io.direction == CKVM_EXIT_IO_OUT ? .out : .in,
                size: Int(io.size), count: Int(io.count), data: ExitBytes(bytes: bytes))
        case CKVM_EXIT_MMIO:
            // SAFETY: exit_reason is KVM_EXIT_MMIO, so KVM filled run->mmio.
            let mmio = ckvm_run_mmio(run)
            let length = min(Int(mmio.pointee.len), 8)
            // SAFETY: run->mmio.data is an 8-byte array inside the kvm_run mapping.
            let bytes = UnsafeMutableRawBufferPointer(start: UnsafeMutableRawPointer(mmio) + 8, count: length)
            // SAFETY: reads the same run->mmio view as above.
            return .mmio(
                address: mmio.pointee.phys_addr, isWrite: mmio.pointee.is_write != 0,
                length: length, data: ExitBytes(bytes: bytes))
        case CKVM_EXIT_HLT:
            return .hlt
        case CKVM_EXIT_SHUTDOWN:
            return .shutdown
        case CKVM_EXIT_INTERNAL_ERROR:
            // SAFETY: exit_reason is KVM_EXIT_INTERNAL_ERROR, so KVM filled run->internal.
            let view = ckvm_run_internal(run)
            return .internalError(suberror: view.pointee.suberror, data: InternalErrorData(pointer: view))
        case CKVM_EXIT_FAIL_ENTRY:
            // SAFETY: exit_reason is KVM_EXIT_FAIL_ENTRY, so KVM filled run->fail_entry.
            let view = ckvm_run_fail_entry(run).pointee
            return .failEntry(reason: view.hardware_entry_failure_reason, cpu: view.cpu)
        case CKVM_EXIT_DEBUG:
            // SAFETY: exit_reason is KVM_EXIT_DEBUG, so KVM filled run->debug.arch.
            let view = ckvm_run_debug(run).pointee
            return .debug(exception: view.exception, pc: view.pc, dr6: view.dr6, dr7: view.dr7)
        case CKVM_EXIT_X86_RDMSR:
            // SAFETY: exit_reason is KVM_EXIT_X86_RDMSR; the view stays inside kvm_run.
            return .rdmsr(MSRExit(pointer: ckvm_run_msr(run)))
        case CKVM_EXIT_X86_WRMSR:
            // SAFETY: exit_reason is KVM_EXIT_X86_WRMSR; the view stays inside kvm_run.
            return .wrmsr(MSRExit(pointer: ckvm_run_msr(run)))
        case CKVM_EXIT_HYPERCALL:
            // SAFETY: exit_reason is KVM_EXIT_HYPERCALL; the view stays inside kvm_run.
            return .hypercall(HypercallExit(pointer: ckvm_run_hypercall(run)))
        case CKVM_EXIT_MEMORY_FAULT:
            return memoryFault(run)
        case CKVM_EXIT_SYSTEM_EVENT:
            // SAFETY: exit_reason is KVM_EXIT_SYSTEM_EVENT; the view stays inside kvm_run.
            return .systemEvent(SystemEvent(pointer: ckvm_run_system_event(run)))
        case CKVM_EXIT_INTR:
            return .interrupted
        default:
            return .unsupported(reason)
        }
    }

    /// The memory-fault exit KVM describes in run->memory_fault.
    static func memoryFault(_ run: UnsafeMutablePointer<kvm_run>) -> VCPUExit {
        // SAFETY: exit_reason is KVM_EXIT_MEMORY_FAULT, so KVM filled run->memory_fault.
        let view = ckvm_run_memory_fault(run).pointee
        return .memoryFault(flags: MemoryFaultFlags(rawValue: view.flags), gpa: view.gpa, size: view.size)
    }
}
