import KVM
import Payload

/// One VM built for one image: its memory (guest_memfd-backed RAM, and the ROM of the
/// firmware layout), pre-populated from the plan, and its vCPUs set up to start the image.
///
/// Owns every KVM object of the run; they are released together when the machine goes.
public final class Machine {
    public let image: Image
    public let options: RunOptions
    public let vm: VirtualMachine
    public let memory: GuestMemory
    public let population: Population
    public internal(set) var pageStates: PageStateMap
    let vcpus: [VCPU]
    // Kept alive while memslots point into them.
    private let backings: [AnyObject]

    static let ramSlot: UInt32 = 0
    static let romSlot: UInt32 = 1

    public init(image: Image, options: RunOptions, system: KVMSystem) throws(RunError) {
        guard options.vcpus >= 1, options.vcpus <= RunOptions.maximumVCPUs else {
            throw .invalidOptions("--vcpus must be between 1 and \(RunOptions.maximumVCPUs) (the runtime has one stack per vCPU)")
        }
        guard options.memory >= 1 << 20, options.memory % (2 << 20) == 0, options.memory <= Layout.ramWindow.end else {
            throw .invalidOptions("--memory must be a multiple of 2 MiB between 2 MiB and 3 GiB (got \(hex(options.memory)))")
        }
        guard image.plan.ramEnd <= options.memory else {
            throw .planExceedsMemory(needed: image.plan.ramEnd, available: options.memory)
        }
        self.image = image
        self.options = options
        do {
            let vm = try system.createVM(type: .default)
            self.vm = vm
            // A test harness must never have its guest code patched (HOST-NOTES.md).
            if try system.check(.disableQuirks2) & Int(Quirks.fixHypercallInstruction.rawValue) != 0 {
                try vm.disableQuirks(.fixHypercallInstruction)
            }
            if try system.check(.x86UserSpaceMSR) != 0 { try vm.enableUserSpaceMSR(.all) }

            var regions: [GuestMemory.Region] = []
            var backings: [AnyObject] = []
            let ram = try Self.guestMemfdSlot(vm: vm, slot: Self.ramSlot, range: GPARange(start: 0, end: options.memory))
            regions.append(GuestMemory.Region(name: "ram", range: GPARange(start: 0, end: options.memory), base: ram.base))
            backings.append(ram)
            if image.layout == .firmware {
                let rom = try Self.guestMemfdSlot(vm: vm, slot: Self.romSlot, range: Layout.romWindow)
                regions.append(GuestMemory.Region(name: "rom", range: Layout.romWindow, base: rom.base))
                backings.append(rom)
            }
            self.backings = backings
            let memory = GuestMemory(regions: regions)
            self.memory = memory

            // Population happens before any vCPU exists, let alone runs.
            let population = try Population.populate(image: image, into: memory)
            self.population = population
            self.pageStates = population.initialStates(memory: options.memory)

            let cpuid = try system.supportedCPUID()
            var vcpus: [VCPU] = []
            for index in 0..<options.vcpus {
                let vcpu = try vm.createVCPU(id: UInt32(index))
                try vcpu.setCPUID(CPUIDTable.forVCPU(index, supported: cpuid))
                if try vm.check(.syncRegs) & 3 == 3 { try vcpu.enableSyncRegisters([.registers, .specialRegisters]) }
                try BootState.prepare(vcpu, index: index, image: image)
                vcpus.append(vcpu)
            }
            self.vcpus = vcpus
        } catch let error as KVMError {
            throw .kvm(error)
        } catch let error as RunError {
            throw error
        } catch {
            throw .hostUnavailable("\(error)")
        }
    }

    /// A guest_memfd (MMAP | INIT_SHARED, so the host can write it before the guest runs)
    /// bound as memslot `slot` over `range`, with its host mapping.
    private static func guestMemfdSlot(vm: VirtualMachine, slot: UInt32, range: GPARange) throws(KVMError) -> GuestMapping {
        let memfd = try vm.createGuestMemfd(size: range.size, flags: [.mmap, .initShared])
        let mapping = try memfd.map()
        try vm.setUserMemoryRegion2(
            slot: slot, flags: [.guestMemfd], guestPhysicalAddress: range.start, size: range.size,
            userspaceAddress: mapping.userspaceAddress, guestMemfd: memfd, guestMemfdOffset: 0)
        return mapping
    }
}
