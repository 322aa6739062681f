import CKVM
import Foundation
import KVM

/// Finds out whether a guest's hypercall instruction really reaches KVM_EXIT_HYPERCALL.
///
/// KVM_CAP_EXIT_HYPERCALL can be advertised and enabled on a host whose backend never
/// delivers the exit (docs/host-findings.md §2: the guest spins or takes #UD instead), so
/// the only honest answer comes from running a guest: a few hand-assembled long-mode
/// instructions issuing KVM_HC_MAP_GPA_RANGE, under a short timeout.
enum NativeHypercallCheck {
    struct Outcome: Sendable, Equatable {
        var delivered: Bool
        var detail: String
    }

    // Guest memory map of the check: page tables, then the code.
    static let memorySize = 2 << 20
    static let pml4: UInt64 = 0x1000
    private static let pdpt: UInt64 = 0x2000
    private static let pageDirectory: UInt64 = 0x3000
    static let code: UInt64 = 0x4000
    private static let present: UInt64 = 1, writable: UInt64 = 2, largePage: UInt64 = 0x80
    private static let requestGPA: UInt32 = 0x10000

    enum Instruction: String, CaseIterable, Sendable {
        case vmcall, vmmcall
        var bytes: [UInt8] { self == .vmcall ? [0x0F, 0x01, 0xC1] : [0x0F, 0x01, 0xD9] }
    }

    /// `quirks`: the quirks this host (as profiled) lets a VM disable.
    static func run(system: KVMSystem, instruction: Instruction, quirks: Quirks, timeout: Double = 0.25) -> Outcome {
        do {
            let vm = try system.createVM(type: .default)
            if quirks.contains(.fixHypercallInstruction) {
                try vm.disableQuirks(.fixHypercallInstruction)
            }
            try vm.enableHypercallExits(mask: 1 << 12)
            let memory = try MemoryMapping(size: memorySize)
            try vm.setUserMemoryRegion(slot: 0, guestPhysicalAddress: 0, size: UInt64(memorySize), userspaceAddress: memory.userspaceAddress)
            try memory.write(tables(), at: Int(pml4))
            try memory.write(program(instruction), at: Int(code))
            let vcpu = try vm.createVCPU(id: 0)
            try vcpu.setCPUID(try system.supportedCPUID())
            try enterLongMode(vcpu)
            let timer = KickTimer(vcpu.kicker, after: timeout)
            let exit: VCPUExit
            defer { timer.cancel() }
            exit = try vcpu.run()
            switch exit {
            case .hypercall(let call) where call.nr == 12:
                return Outcome(delivered: true, detail: "\(instruction.rawValue) exited with KVM_EXIT_HYPERCALL")
            case .interrupted:
                return Outcome(delivered: false, detail: "\(instruction.rawValue) never left KVM_RUN within \(Int(timeout * 1000)) ms")
            case .shutdown:
                return Outcome(delivered: false, detail: "\(instruction.rawValue) raised an exception (the vCPU shut down)")
            default:
                return Outcome(delivered: false, detail: "\(instruction.rawValue) ended in \(exit.name)")
            }
        } catch {
            return Outcome(delivered: false, detail: "\(instruction.rawValue): \(error)")
        }
    }

    /// PML4 → PDPT → PD mapping the first 2 MiB with one large page.
    static func tables() -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: 0x3000)
        func put(_ value: UInt64, at offset: Int) {
            for index in 0..<8 { bytes[offset + index] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(index))) }
        }
        put(pdpt | present | writable, at: 0)
        put(pageDirectory | present | writable, at: 0x1000)
        put(0 | present | writable | largePage, at: 0x2000)
        return bytes
    }

    /// mov eax, 12; mov ebx, GPA; mov ecx, 1; mov edx, 0x10 (encrypted); <hypercall>; hlt
    private static func program(_ instruction: Instruction) -> [UInt8] {
        // SAFETY: the eight bytes of a local integer, copied into an array before the closure returns.
        let gpa = withUnsafeBytes(of: requestGPA.littleEndian, Array.init)
        return [0xB8, 12, 0, 0, 0, 0xBB] + gpa + [0xB9, 1, 0, 0, 0, 0xBA, 0x10, 0, 0, 0] + instruction.bytes + [0xF4]
    }

    static func enterLongMode(_ vcpu: VCPU) throws(KVMError) {
        var sregs = try vcpu.getSpecialRegisters()
        sregs.cr0 = BootState.cr0ProtectedMode | BootState.cr0Paging | BootState.cr0ExtensionType
        sregs.cr3 = pml4
        sregs.cr4 = BootState.cr4PAE
        sregs.efer = BootState.eferLME | BootState.eferLMA
        BootState.loadFlatSegments(&sregs, codeSelector: BootState.codeSelector, dataSelector: BootState.dataSelector, longMode: true)
        try vcpu.setSpecialRegisters(sregs)
        var regs = Registers()
        regs.rip = code
        regs.rflags = 0x2
        try vcpu.setRegisters(regs)
    }
}

extension VCPUExit {
    /// A short name for messages.
    var name: String {
        switch self {
        case .io: "a port I/O exit"
        case .mmio: "an MMIO exit"
        case .hlt: "HLT"
        case .shutdown: "SHUTDOWN"
        case .internalError(let suberror, _): "an internal error (suberror \(suberror))"
        case .failEntry: "a failed VM entry"
        case .debug: "a debug exit"
        case .rdmsr: "an RDMSR exit"
        case .wrmsr: "a WRMSR exit"
        case .hypercall: "a hypercall exit"
        case .memoryFault: "a memory fault"
        case .systemEvent: "a system event"
        case .interrupted: "an interrupted KVM_RUN"
        case .unsupported(let reason): "exit reason \(reason)"
        }
    }
}
