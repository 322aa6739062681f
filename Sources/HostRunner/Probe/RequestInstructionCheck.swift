import Foundation
import KVM
import Payload
import Synchronization

/// What this host's KVM does with a confidential guest's request instruction in a plain VM:
/// end KVM_RUN with an emulation failure at it (kvm_pvm, whose emulator runs every guest
/// instruction and knows none of them), or raise an exception in the guest (#UD, as
/// hardware-virtualized KVM is expected to). The runner serves firmware's requests where they
/// end KVM_RUN on their own and arms breakpoints for the rest (`FirmwareRequestSites`), so it
/// asks a guest rather than assume: each instruction alone in the long-mode check guest of
/// `NativeHypercallCheck`, with no IDT, under a short timeout.
public enum RequestInstructionCheck {
    public enum Outcome: String, Sendable, Equatable {
        /// KVM_EXIT_INTERNAL_ERROR (emulation failure) with RIP at the instruction.
        case exitsAtInstruction = "ends KVM_RUN at the instruction (emulation failure)"
        /// The vCPU shut down: an exception with no IDT to take it.
        case raisesException = "raises an exception in the guest"
        /// Anything else: no exit within the check's time (it spins or retries), or another exit.
        case other = "neither ends KVM_RUN at it nor shuts the check guest down"
    }

    /// The instructions firmware issues requests with.
    public static let instructions: [RequestInstruction] = [.vmgexit, .pvalidate, .rmpadjust, .tdcall]

    /// Runs the checks on a thread of their own that takes kicks: the caller may be a
    /// libdispatch worker (the conformance suite's), where SIGUSR1 is blocked and an
    /// instruction that spins would never be kicked out (`VCPUKicker.acceptKicksOnThisThread`).
    public static func run(system: KVMSystem, timeout: Double = 0.1) -> [RequestInstruction: Outcome] {
        // What the host's KVM does does not change within a process: ask once (the suite's
        // firmware cases would otherwise each pay the VMGEXIT check's timeout).
        if let known = answered.withLock({ $0 }) { return known }
        let outcomes = check(system: system, timeout: timeout)
        answered.withLock { $0 = outcomes }
        return outcomes
    }

    private static let answered = Mutex<[RequestInstruction: Outcome]?>(nil)

    private static func check(system: KVMSystem, timeout: Double) -> [RequestInstruction: Outcome] {
        let result = Mutex<[RequestInstruction: Outcome]>([:])
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            VCPUKicker.acceptKicksOnThisThread()
            var outcomes: [RequestInstruction: Outcome] = [:]
            for instruction in instructions { outcomes[instruction] = run(system: system, instruction: instruction, timeout: timeout) }
            result.withLock { $0 = outcomes }
            done.signal()
        }
        thread.start()
        done.wait()
        return result.withLock { $0 }
    }

    static func run(system: KVMSystem, instruction: RequestInstruction, timeout: Double) -> Outcome {
        do {
            let vm = try system.createVM(type: .default)
            let memory = try MemoryMapping(size: NativeHypercallCheck.memorySize)
            try vm.setUserMemoryRegion(
                slot: 0, guestPhysicalAddress: 0, size: UInt64(NativeHypercallCheck.memorySize), userspaceAddress: memory.userspaceAddress)
            try memory.write(NativeHypercallCheck.tables(), at: Int(NativeHypercallCheck.pml4))
            try memory.write(bytes(instruction) + [hlt], at: Int(NativeHypercallCheck.code))
            let vcpu = try vm.createVCPU(id: 0)
            try vcpu.setCPUID(try system.supportedCPUID())
            try NativeHypercallCheck.enterLongMode(vcpu)
            let timer = KickTimer(vcpu.kicker, after: timeout)
            defer { timer.cancel() }
            switch try vcpu.run() {
            case .internalError(1, _) where (try? vcpu.getRegisters().rip) == NativeHypercallCheck.code: return .exitsAtInstruction
            case .shutdown: return .raisesException
            default: return .other
            }
        } catch {
            return .other
        }
    }

    static let hlt: UInt8 = 0xF4

    /// The encodings `RequestInstruction` recognises (Linux asm/sev.h, edk2 Nasm.inc, the GHCI).
    static func bytes(_ instruction: RequestInstruction) -> [UInt8] {
        switch instruction {
        case .vmcall: [0x0F, 0x01, 0xC1]
        case .vmmcall: [0x0F, 0x01, 0xD9]
        case .vmgexit: [0xF3, 0x0F, 0x01, 0xD9]
        case .tdcall: [0x66, 0x0F, 0x01, 0xCC]
        case .pvalidate: [0xF2, 0x0F, 0x01, 0xFF]
        case .rmpadjust: [0xF3, 0x0F, 0x01, 0xFE]
        }
    }
}
