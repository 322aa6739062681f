import GuestABI
import GuestPhysical
import KVM
import Payload

/// One confidential platform's rules for a run, in one place: its memory layout and view bit,
/// the CPUID identity it gives the guest, its launch pages, what a guest access its views
/// stopped meets, and (through `PlatformVCPU`) the guest-half instructions and MSRs it serves.
/// The machine and the vCPU loop ask the run's platform instead of switching on its name;
/// a new platform behaviour lands in its platform's folder (KVM/, SEVSNP/, TDX/).
protocol GuestPlatform: Sendable {
    /// The platform the guest is told it runs on, and the interface it converts through
    /// (reports and the CLI name it); nil: a plain guest with no identity programmed.
    var identity: ConversionPlatform? { get }
    /// The guest MAXPHYADDR the platform's view bit needs (TDX: GPAW; SNP: above the C-bit);
    /// nil: the host's.
    var physicalAddressBits: UInt32? { get }
    /// The bit the guest's page tables set for private memory (SNP's C-bit), which the host
    /// drops when it walks them; 0 where tables carry no such bit.
    var pageTableEncryptionBit: UInt64 { get }
    /// Whether every access the vCPU makes with paging off is private, whatever view its
    /// address names (SEV: there is no page table to carry a C-bit, so the hardware
    /// encrypts them all; OVMF's reset vector builds its page tables so).
    var unpagedAccessesArePrivate: Bool { get }
    /// Where the VMM keeps a RAM page's shared memory in the host's regions: GPA | this
    /// (TDX's split backing); nil: at the GPA, in the one file both states share.
    var sharedMemoryAlias: UInt64? { get }

    /// Adds the platform's identity leaves to a vCPU's CPUID (after the APIC ID and the
    /// address width are set), and returns the list the vCPU is given.
    func identify(_ entries: [CPUIDEntry]) -> [CPUIDEntry]

    /// Creates RAM's memslot(s) and the host's mappings. `enforcing`: the runner enforces
    /// private memory through views (KVM has no memory attributes here).
    func layOutRAM(_ context: LayoutContext) throws -> MachineMemory
    /// Maps what the platform needs of the firmware ROM beyond its own memslot.
    func mapROM(_ rom: GuestMapping, _ context: LayoutContext, into memory: inout MachineMemory) throws

    /// Fills the launch pages a VMM of this platform fills before the first instruction
    /// (SNP: SEV metadata sections; TDX: the TD HOB), in order. `cpuid`: vCPU 0's, as seen.
    func launchPages(
        image: Image, memory: GuestMemory, options: RunOptions,
        cpuid: () throws -> [CPUIDEntry]
    ) throws -> [LaunchPage]
    /// Prepares the boot page tables as this platform's VMM hands them over; returns the bits
    /// the boot CR3 carries beyond the root's address.
    func prepareBootPaging(image: Image, memory: GuestMemory, enforcing: Bool) throws(RunError) -> UInt64

    /// The implicit conversion an access through the wrong view asks for, with the form the
    /// event log names it by (the runner enforcing private memory through the views).
    func implicitConversion(of page: GPARange, to target: PageState, privateView: Bool, isWrite: Bool)
        -> (request: ConversionRequest, platform: ConversionPlatform, form: ConversionForm)

    /// This platform's half of vCPU `index`: the state the guest builds up with it and the
    /// requests it serves.
    func makeVCPU(index: Int, options: RunOptions) -> any PlatformVCPU

    /// Which raw RDMSR/WRMSR reach KVM and which the platform intercepts; nil: all reach KVM
    /// (a plain VM).
    var rawMSRRule: (any RawMSRRule)? { get }
}

extension GuestPlatform {
    var physicalAddressBits: UInt32? { nil }
    var rawMSRRule: (any RawMSRRule)? { nil }
    var pageTableEncryptionBit: UInt64 { 0 }
    var unpagedAccessesArePrivate: Bool { false }
    var sharedMemoryAlias: UInt64? { nil }

    func mapROM(_ rom: GuestMapping, _ context: LayoutContext, into memory: inout MachineMemory) throws {}

    func prepareBootPaging(image: Image, memory: GuestMemory, enforcing: Bool) throws(RunError) -> UInt64 { 0 }

    func implicitConversion(of page: GPARange, to target: PageState, privateView: Bool, isWrite: Bool)
        -> (request: ConversionRequest, platform: ConversionPlatform, form: ConversionForm)
    {
        let request = ConversionRequest(
            range: page, direction: target == .private ? .toPrivate : .toShared, pageSize: .size4K,
            origin: .tdxMapGPA)
        return (request, identity ?? .kvm, .memoryFault(.access(view: privateView ? .private : .shared, isWrite ? .write : .read)))
    }

    /// RAM in one memslot at GPA 0, seen by the host through the same mapping: a platform
    /// whose private memory KVM enforces, or none.
    func plainRAM(_ context: LayoutContext) throws -> MachineMemory {
        let ram = try context.ramBacking.slot(vm: context.vm, slot: Machine.ramSlot, range: context.ram, name: "ram")
        return MachineMemory(
            regions: [GuestMemory.Region(name: "ram", range: context.ram, base: ram.base)], keepAlive: [ram],
            backing: .unified(ram.file), views: nil)
    }
}

/// The platform of a run with `options` (`RunOptions.platform`; nil: a plain guest).
enum GuestPlatforms {
    static func platform(for options: RunOptions) -> any GuestPlatform {
        switch options.platform {
        case nil: KVMPlatform(identity: nil)
        case .kvm?: KVMPlatform(identity: .kvm)
        case .sevSNP?: SEVSNPPlatform()
        case .tdx?: TDXPlatform(width: options.tdxAddressWidth, attributes: options.tdxAttributes)
        }
    }
}

/// What a platform's memory layout needs from the machine being built.
struct LayoutContext {
    let vm: VirtualMachine
    let ramBacking: RAMBacking
    /// Guest RAM, from GPA 0.
    let ram: GPARange
    /// The runner enforces private memory through the guest's views (no KVM memory attributes).
    let enforcing: Bool
}

/// What a memory layout made: the host's regions of guest memory, the mappings the memslots
/// point into (kept alive with the machine), how conversions discard, and the guest's views
/// where the runner enforces private memory.
struct MachineMemory {
    var regions: [GuestMemory.Region]
    var keepAlive: [AnyObject]
    var backing: ConversionService.Backing
    var views: GuestViews?
}
