/// A standard TDG.VP.VMCALL (R10 = 0) decoded the way KVM serves it
/// (arch/x86/kvm/vmx/tdx.c: `tdcall_to_vmx_exit_reason` routes the instruction
/// subfunctions to `tdx_emulate_cpuid`, `kvm_emulate_halt_noskip`,
/// `tdx_emulate_io`, `kvm_emulate_rdmsr` / `_wrmsr` and `tdx_emulate_mmio`;
/// `handle_tdvmcall` takes the GHCI calls).
public enum TDVMCallRequest: Sendable, Hashable {
    /// Instruction.CPUID: R12 = EAX, R13 = ECX (32 bits each).
    case cpuid(leaf: UInt32, subleaf: UInt32)
    /// Instruction.HLT: R12 ≠ 0 says the guest halts with interrupts blocked
    /// (tdx.c `tdx_interrupt_allowed`).
    case hlt(interruptsBlocked: Bool)
    /// Instruction.IO read: R12 = size, R13 = 0, R14 = port.
    case portIn(port: UInt16, size: Int)
    /// Instruction.IO write: R15 = the value; its low `size` bytes go out.
    case portOut(port: UInt16, size: Int, value: UInt64)
    /// Instruction.RDMSR: R12 = index (ECX).
    case msrRead(index: UInt32)
    /// Instruction.WRMSR: R12 = index, R13 = the 64-bit value.
    case msrWrite(index: UInt32, value: UInt64)
    /// #VE.RequestMMIO read: R12 = size, R13 = 0, R14 = GPA (shared bit set).
    /// `gpa` has the shared bit stripped, as KVM forwards it.
    case mmioRead(gpa: UInt64, size: Int)
    /// #VE.RequestMMIO write: R15 = the value.
    case mmioWrite(gpa: UInt64, size: Int, value: UInt64)
    /// GetTdVmCallInfo with R12 = 1: the VMM lists the optional TDVMCALLs it
    /// serves. KVM forwards it to user space with everything preset to 0.
    case tdVmCallInfo
    /// ReportFatalError: R12 = error code; R13 = GPA of more data when R12 bit 63
    /// is set; a message of up to 64 bytes in R14, R15, RBX, RDI, RSI, R8, R9, RDX,
    /// of which only the exposed registers are taken (QEMU target/i386/kvm/tdx.c
    /// `tdx_handle_report_fatal_error`). KVM ends the run (KVM_SYSTEM_EVENT_TDX_FATAL).
    case reportFatalError(errorCode: UInt64, gpa: UInt64?, message: [UInt8])
    /// MapGPA or a KVM hypercall: served through `TDVMCall` and `TDXMapGPAProcessor`.
    case conversion(TDVMCall)
}

/// Why KVM answers INVALID_OPERAND without serving the call.
public enum TDVMCallInvalidOperand: Sendable, Hashable {
    /// Instruction.IO size not 1, 2 or 4; #VE.RequestMMIO size not 1, 2, 4 or 8.
    case size(UInt64)
    /// R13 neither 0 (read) nor 1 (write).
    case direction(UInt64)
    /// #VE.RequestMMIO at a GPA whose first or last byte has the shared bit clear.
    case privateMMIOAddress(UInt64)
    /// GetTdVmCallInfo with R12 other than 0 or 1.
    case tdVmCallInfoLeaf(UInt64)
    /// GetQuote with a buffer GPA whose shared bit is clear.
    case privateQuoteBuffer(UInt64)
}

/// The outcome of decoding: a request to serve, or the answer KVM gives at once.
public enum TDVMCallDecoded: Sendable, Hashable {
    case request(TDVMCallRequest)
    case answer(TDVMCallAnswer, because: TDVMCallAnswer.Reason)
}

extension TDVMCallRequest {
    /// Decodes a TDG.VP.VMCALL from the registers the guest loaded and the
    /// exposure mask of its RCX (`TDCall.decode` has already checked the mask).
    /// Unexposed registers read as zero, as the TDX module clears them.
    ///
    /// Answered at once, as KVM answers:
    /// - GetTdVmCallInfo, R12 = 0: SUCCESS, R11–R14 = 0;
    /// - the invalid operands of `TDVMCallInvalidOperand`: INVALID_OPERAND;
    /// - GetQuote: SUBFUNC_UNSUPPORTED, the status KVM presets before handing it to
    ///   user space (this host has no quoting service);
    /// - any other subfunction: SUBFUNC_UNSUPPORTED.
    ///
    /// Not checked, as KVM does not check them: a port above 0xFFFF in R14 (KVM
    /// truncates it to 16 bits, `unsigned short port`), MSR indices (left to the
    /// MSR emulation, whose refusal is INVALID_OPERAND), the CPUID leaf.
    public static func decode(
        _ registers: TDCallRegisters, exposedMask: UInt16, width: TDXGuestPhysicalAddressWidth
    ) -> TDVMCallDecoded {
        let exposed = TDCall.exposedView(of: registers, mask: exposedMask)
        let call = TDVMCall(exposed: exposed)
        guard case let .unsupported(subfunction) = call else { return .request(.conversion(call)) }
        func invalid(_ reason: TDVMCallInvalidOperand) -> TDVMCallDecoded {
            .answer(.invalidOperand, because: .invalidOperand(reason))
        }
        let (r12, r13, r14, r15) = (exposed.r12, exposed.r13, exposed.r14, exposed.r15)

        switch subfunction {
        case TDVMCallSubfunction.cpuid:
            return .request(.cpuid(leaf: UInt32(truncatingIfNeeded: r12), subleaf: UInt32(truncatingIfNeeded: r13)))

        case TDVMCallSubfunction.hlt:
            return .request(.hlt(interruptsBlocked: r12 != 0))

        case TDVMCallSubfunction.io:
            // tdx.c tdx_emulate_io: one check for both, direction first in the expression.
            guard let direction = TDVMCallDirection(rawValue: r13) else { return invalid(.direction(r13)) }
            guard [1, 2, 4].contains(r12) else { return invalid(.size(r12)) }
            let port = UInt16(truncatingIfNeeded: r14)
            return .request(
                direction == .write
                    ? .portOut(port: port, size: Int(r12), value: r15)
                    : .portIn(port: port, size: Int(r12)))

        case TDVMCallSubfunction.rdmsr:
            return .request(.msrRead(index: UInt32(truncatingIfNeeded: r12)))

        case TDVMCallSubfunction.wrmsr:
            return .request(.msrWrite(index: UInt32(truncatingIfNeeded: r12), value: r13))

        case TDVMCallSubfunction.requestMMIO:
            // tdx.c tdx_emulate_mmio reads size and direction into `int`s, so only
            // their low 32 bits count; it checks size, then direction, then the
            // shared bit of the first and last byte, and strips the shared bit.
            let size = UInt64(UInt32(truncatingIfNeeded: r12))
            let write = UInt64(UInt32(truncatingIfNeeded: r13))
            guard [1, 2, 4, 8].contains(size) else { return invalid(.size(r12)) }
            guard let direction = TDVMCallDirection(rawValue: write) else { return invalid(.direction(r13)) }
            guard width.isShared(r14), width.isShared(r14 &+ size &- 1) else { return invalid(.privateMMIOAddress(r14)) }
            let gpa = r14 & ~width.sharedBit
            return .request(
                direction == .write
                    ? .mmioWrite(gpa: gpa, size: Int(size), value: r15)
                    : .mmioRead(gpa: gpa, size: Int(size)))

        case TDVMCallSubfunction.getTdVmCallInfo:
            switch r12 {
            case 0: return .answer(.tdVmCallInfo, because: .served)
            case 1: return .request(.tdVmCallInfo)
            default: return invalid(.tdVmCallInfoLeaf(r12))
            }

        case TDVMCallSubfunction.reportFatalError:
            let gpa: UInt64? = r12 & TDVMCallFatalError.gpaValid != 0 ? r13 : nil
            return .request(
                .reportFatalError(
                    errorCode: r12, gpa: gpa, message: TDVMCallFatalError.message(exposed, exposedMask: exposedMask)))

        case TDVMCallSubfunction.getQuote:
            guard width.isShared(r12) else { return invalid(.privateQuoteBuffer(r12)) }
            return .answer(.subfunctionUnsupported, because: .subfunctionUnsupported(subfunction))

        default:
            return .answer(.subfunctionUnsupported, because: .subfunctionUnsupported(subfunction))
        }
    }
}

/// ReportFatalError's layout (QEMU target/i386/kvm/tdx.c; the GHCI).
public enum TDVMCallFatalError {
    /// R12 bit 63: R13 holds the GPA of additional data (`TDX_REPORT_FATAL_ERROR_GPA_VALID`).
    public static let gpaValid: UInt64 = 1 << 63
    /// The message registers in the GHCI's order, by x86 register number:
    /// R14, R15, RBX, RDI, RSI, R8, R9, RDX.
    public static let messageRegisters = [14, 15, 3, 7, 6, 8, 9, 2]

    /// The exposed message registers' bytes, little-endian, packed in order, up to
    /// the first NUL (QEMU copies only the registers set in the mask).
    public static func message(_ registers: TDCallRegisters, exposedMask: UInt16) -> [UInt8] {
        var bytes: [UInt8] = []
        for index in messageRegisters where exposedMask & (1 << UInt16(index)) != 0 {
            withUnsafeBytes(of: registers[gpr: index].littleEndian) { bytes.append(contentsOf: $0) }
        }
        if let end = bytes.firstIndex(of: 0) { bytes.removeSubrange(end...) }
        return bytes
    }
}
