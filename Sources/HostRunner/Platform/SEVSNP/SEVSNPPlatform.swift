import GuestABI
import GuestPhysical
import KVM
import Payload

/// AMD SEV-SNP as the runner models it: the C-bit and MAXPHYADDR the guest is told, the
/// CPUID identity and CPUID page model, RAM's two views where KVM enforces nothing (private
/// at GPA | C-bit, shared at GPA), the SNP launch pages, and the boot tables a VMM hands over
/// with the C-bit. Its per-vCPU half (`SEVSNPVCPU`) serves the GHCB MSR, SEV_STATUS, VMGEXIT
/// (through `GHCBHost`) and PVALIDATE, and raises #VC for unvalidated pages.
struct SEVSNPPlatform: GuestPlatform {
    var identity: ConversionPlatform? { .sevSNP }

    /// The C-bit, reported in SEV_INFO and CPUID 0x8000001F EBX[5:0]: bit 47, the position
    /// first-generation EPYC parts report (later ones say 51; guests read it, never assume
    /// it), under a MAXPHYADDR of 48 (CPUID 0x80000008), so that the guest MMU treats it as an
    /// address bit and a C=1 access reaches the private view's memslot.
    static let cBitPosition: UInt8 = 47
    static let physicalAddressBits: UInt32 = 48
    static var cBit: UInt64 { 1 << UInt64(cBitPosition) }
    /// CPUID 0x8000001F EAX: SEV (bit 1), SEV-ES (3), SEV-SNP (4) (AMD APM vol. 3, CPUID Fn8000_001F).
    static let sevFeatures: UInt32 = (1 << 1) | (1 << 3) | (1 << 4)
    /// SEV_STATUS (0xC0010131): SEV, SEV-ES and SNP active (Linux msr-index.h bits 0, 1, 2).
    static let sevStatusMSR: UInt32 = 0xC001_0131
    static let sevStatusSNPGuest: UInt64 = 0b111

    var physicalAddressBits: UInt32? { Self.physicalAddressBits }
    var pageTableEncryptionBit: UInt64 { Self.cBit }
    /// AMD APM vol. 2, "Secure Encrypted Virtualization": with CR0.PG clear every guest data
    /// access is treated as private (C=1); Linux's Documentation/arch/x86/amd-memory-encryption.rst
    /// adds that instruction fetches and page-table walks always are.
    var unpagedAccessesArePrivate: Bool { true }

    func identify(_ entries: [CPUIDEntry]) -> [CPUIDEntry] {
        var entries = entries
        CPUIDTable.raiseMaximum(&entries, leaf: 0x8000_0000, to: CPUIDTable.sevLeaf)
        CPUIDTable.set(&entries, leaf: CPUIDTable.sevLeaf, eax: Self.sevFeatures, ebx: UInt32(Self.cBitPosition), ecx: 0, edx: 0)
        return SNPCPUIDModel.entries(entries)
    }

    /// Where KVM enforces nothing: RAM's private view at GPA | C-bit, its shared view at GPA,
    /// both memslots over one file, so the runner can enforce the RMP itself. The guest's page
    /// tables carry the C-bit: a direct64 image's as the VMM hands them over, a firmware
    /// image's as its reset path makes them.
    func layOutRAM(_ context: LayoutContext) throws -> MachineMemory {
        guard context.enforcing else { return try plainRAM(context) }
        let size = context.ram.size
        let ram = try context.ramBacking.slot(vm: context.vm, slot: Machine.ramSlot, range: GPARange(start: Self.cBit, end: Self.cBit + size), name: "ram")
        let sharedView = try ram.file.map(), hostView = try ram.file.map()
        try context.vm.setUserMemoryRegion(slot: Machine.sharedAliasSlot, guestPhysicalAddress: 0, size: size, userspaceAddress: sharedView.userspaceAddress)
        return MachineMemory(
            regions: [GuestMemory.Region(name: "ram", range: context.ram, base: hostView.base)], keepAlive: [ram, sharedView, hostView],
            backing: .unified(ram.file), views: GuestViews(privateView: ram, sharedView: sharedView, viewBit: Self.cBit, bitMeansPrivate: true))
    }

    /// The ROM is private memory an SNP launch validated; the guest reaches it at GPA before
    /// paging (every access private then) and at GPA | C-bit after. Both are the same bytes;
    /// the guest never converts it, so neither view is ever closed.
    func mapROM(_ rom: GuestMapping, _ context: LayoutContext, into memory: inout MachineMemory) throws {
        guard context.enforcing else { return }
        let romPrivate = try rom.file.map()
        try context.vm.setUserMemoryRegion(
            slot: Machine.romPrivateAliasSlot, guestPhysicalAddress: Layout.romWindow.start | Self.cBit,
            size: Layout.romWindow.size, userspaceAddress: romPrivate.userspaceAddress)
        memory.keepAlive.append(romPrivate)
    }

    func launchPages(image: Image, memory: GuestMemory, options: RunOptions, cpuid: () throws -> [CPUIDEntry]) throws -> [LaunchPage] {
        guard let (firmware, metadata) = try SNPLaunchPages.metadata(image: image, options: options) else { return [] }
        return try SNPLaunchPages.populate(firmware, metadata, memory: memory, cpuid: try cpuid(), options: options)
    }

    /// A direct64 image's boot tables as an SNP VMM must hand them over: with the C-bit.
    func prepareBootPaging(image: Image, memory: GuestMemory, enforcing: Bool) throws(RunError) -> UInt64 {
        guard enforcing, image.layout == .direct64 else { return 0 }
        guard SNPBootPaging.encrypt(root: image.pageTableRoot, memory: memory, cBit: Self.cBit) else {
            throw .invalidOptions("the image's page tables at \(hex(image.pageTableRoot)) are not the runtime's: cannot give them the C-bit")
        }
        return Self.cBit
    }

    /// KVM's implicit conversion of an RMP #NPF comes from the GHCB's side of the model.
    func implicitConversion(of page: GPARange, to target: PageState, privateView: Bool, isWrite: Bool)
        -> (request: ConversionRequest, platform: ConversionPlatform, form: ConversionForm)
    {
        let request = ConversionRequest(range: page, direction: target == .private ? .toPrivate : .toShared, pageSize: .size4K, origin: .ghcbPSC)
        return (request, .sevSNP, .memoryFault(.access(view: privateView ? .private : .shared, isWrite ? .write : .read)))
    }

    /// KVM's MSR intercepts for an SEV-ES/SNP guest (`SNPMSRIntercept`).
    var rawMSRRule: (any RawMSRRule)? { SNPMSRIntercept() }

    func makeVCPU(index: Int, options: RunOptions) -> any PlatformVCPU {
        SEVSNPVCPU(index: index, policy: options.pageStateChangePolicy)
    }
}
