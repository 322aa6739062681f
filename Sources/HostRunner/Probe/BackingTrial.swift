import GuestPhysical
import KVM

/// Whether a default VM really takes a RAM backing as the runner uses it. Capabilities alone
/// do not say: Linux 6.8-6.17 report KVM_CAP_GUEST_MEMFD on /dev/kvm and let a default VM
/// create a guest_memfd, yet refuse KVM_MEM_GUEST_MEMFD on its memslots (docs/host-support.md).
/// And the runner's views enforce private memory through the protection of each memslot's
/// mapping, which only some KVMs turn into an exit the runner can answer. So the probe makes
/// the memslot exactly as `RAMBacking` will, closes one page of its mapping, and runs a guest
/// that reads that page: on this project's hosts it comes back as an MMIO exit at that GPA.
enum BackingTrial {
    enum Outcome: Sendable, Equatable {
        /// The memslot was made and a closed page exits as MMIO, as the views need.
        case viewsHold
        /// The memslot could not be made (the call that failed, and its errno).
        case refused(String)
        /// The memslot was made, but a guest read of a closed page ended otherwise.
        case viewsDoNotHold(String)
    }

    private static let size: UInt64 = 2 << 20
    private static let closedPage = 0x1000
    /// Real mode at GPA 0: mov al, [0x1000]; hlt.
    private static let code: [UInt8] = [0xA0, 0x00, 0x10, 0xF4]

    static func run(system: KVMSystem, backing: RAMBacking) -> Outcome {
        let mapping: GuestMapping
        let vm: VirtualMachine
        do {
            vm = try system.createVM(type: .default)
            mapping = try backing.slot(vm: vm, slot: 0, range: GPARange(start: 0, end: size), name: "probe")
        } catch {
            return .refused("a default VM refused a \(backing.kind.rawValue) memslot: \(error)")
        }
        do {
            try mapping.write(code, at: 0)
            try mapping.protect(offset: closedPage, length: 0x1000, readWrite: false)
            let vcpu = try vm.createVCPU(id: 0)
            try vcpu.modifySpecialRegisters { sregs in
                sregs.cs.base = 0
                sregs.cs.selector = 0
            }
            var registers = Registers()
            registers.rflags = 0x2
            try vcpu.setRegisters(registers)
            let timer = KickTimer(vcpu.kicker, after: 0.25)
            defer { timer.cancel() }
            let exit = try vcpu.run()
            if case .mmio(let address, false, _, _) = exit, address == UInt64(closedPage) { return .viewsHold }
            return .viewsDoNotHold("a guest read of a page whose \(backing.kind.rawValue) mapping is closed ended in \(exit.name), not an MMIO exit")
        } catch {
            return .viewsDoNotHold("a guest read of a page whose \(backing.kind.rawValue) mapping is closed failed: \(error)")
        }
    }
}
