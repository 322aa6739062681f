import GuestPhysical
import Payload

/// What a TDX VMM writes before the first instruction for TDVF, done by the runner for
/// `--platform tdx` firmware-layout images that carry TDVF metadata: the TD HOB at the TD_HOB
/// section, describing the RAM it gives the TD (`TDHob`). The sections added before launch
/// (TD_HOB, TEMP_MEM) are SYSTEM_MEMORY in it, the rest of RAM MEMORY_UNACCEPTED, for the
/// guest to accept before use, as QEMU's tdvf-hob.c describes them.
enum TDXLaunchPages {
    static func populate(image: Image, memory: GuestMemory, options: RunOptions) throws(RunError) -> [LaunchPage] {
        guard image.layout == .firmware, let rom = image.romBytes(),
            let metadata = FirmwareImage(bytes: rom).tdxMetadata,
            let hob = metadata.sections.first(where: { $0.type == .tdHob })
        else { return [] }
        let ram = GPARange(start: 0, end: options.memory)
        let hobRange = GPARange(start: hob.memoryAddress, end: hob.memoryAddress + hob.memorySize)
        guard ram.contains(hobRange) else {
            throw .invalidOptions("the TD_HOB section \(hobRange) is not in guest RAM \(ram): a VMM can only write the HOB into RAM")
        }
        // A section left out (`--launch-omit-section`, a TEMP_MEM section) is not added, so
        // the HOB calls it unaccepted, as QEMU's tdvf-hob.c describes RAM it did not accept.
        let added = metadata.sections.enumerated()
            .filter { ($0.element.type == .tdHob || $0.element.type == .tempMem) && $0.offset != options.launchOmittedSection }
            .map(\.element)
            .map { GPARange(start: $0.memoryAddress, end: $0.memoryAddress + $0.memorySize) }
        var resources = TDHob.resources(ram: ram, added: added)
        if options.launchFault == .tdHobResourceOverROM {
            let romBase = FirmwareImage.fourGiB - UInt64(rom.count)
            resources.append(TDHob.Resource(range: GPARange(start: romBase, end: romBase + 0x1_0000), type: TDHob.systemMemory))
        }
        let bytes: [UInt8]
        do { bytes = try TDHob.bytes(base: hobRange.start, capacity: hobRange.size, resources: resources) } catch {
            throw .invalidOptions("\(error)")
        }
        guard memory.zero(at: hobRange.start, count: Int(hobRange.size)), memory.write(bytes, at: hobRange.start),
            let contents = memory.read(at: hobRange.start, count: Int(hobRange.size))
        else {
            throw .planExceedsMemory(needed: hobRange.end, available: options.memory)
        }
        var pages = [LaunchPage(kind: .tdHob, range: hobRange, contents: contents, source: .tdHobSection)]
        // TEMP_MEM: added (TDH.MEM.PAGE.ADD) as zero pages, not measured (QEMU tdx.c
        // tdx_finalize_vm adds every TDVF section it allocates), for SEC's stack, heap and
        // page tables; a firmware volume's plan does not cover them, so they come from here.
        if image.isFirmwareVolume {
            for (index, section) in metadata.sections.enumerated() where section.type == .tempMem && index != options.launchOmittedSection {
                let range = GPARange(start: section.memoryAddress, end: section.memoryAddress + section.memorySize)
                guard ram.contains(range), memory.zero(at: range.start, count: Int(range.size)) else {
                    throw .invalidOptions("the TEMP_MEM section \(range) is not in guest RAM \(ram)")
                }
                pages.append(LaunchPage(kind: .tdTempMem, range: range, contents: nil, source: .tdTempMemSection))
            }
        }
        return pages
    }

    /// The GPA of the TD HOB a firmware's TDVF metadata asks for, if any.
    static func hobAddress(_ image: Image) -> UInt64? {
        guard let rom = image.romBytes(), let metadata = FirmwareImage(bytes: rom).tdxMetadata else { return nil }
        return metadata.sections.first { $0.type == .tdHob }?.memoryAddress
    }
}
