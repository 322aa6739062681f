import Payload

/// The ELF reader (and the image reader over it) on arbitrary bytes. Whatever it accepts must
/// be what the ELF-64 specification says those bytes are: the identification, e_type,
/// e_entry, e_phnum program headers read field by field from e_phoff (Elf64_Phdr: p_type,
/// p_flags, p_offset, p_vaddr, p_paddr, p_filesz, p_memsz), and every section's contents
/// inside the file. What it refuses gets a described ELFError.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzELF(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    var input = FuzzInput(data, size)
    let bytes = input.rest()
    let file: ELFFile
    do {
        file = try ELFFile(bytes: bytes)
    } catch {
        expect(!error.description.isEmpty, "an ELF error without words")
        return 0
    }
    func u16(_ at: Int) -> UInt64 { UInt64(bytes[at]) | UInt64(bytes[at + 1]) << 8 }
    func u32(_ at: Int) -> UInt64 { u16(at) | u16(at + 2) << 16 }
    func u64(_ at: Int) -> UInt64 { u32(at) | u32(at + 4) << 32 }
    expect(
        bytes.count >= 64 && bytes[0..<4].elementsEqual([0x7F, 0x45, 0x4C, 0x46]) && bytes[4] == 2 && bytes[5] == 1,
        "accepted without the ELF-64 little-endian identification")
    expect(u16(18) == 62, "accepted machine \(u16(18)), not x86-64")
    expect(UInt64(file.type.rawValue) == u16(16) && file.entry == u64(24), "e_type / e_entry")
    let phoff = u64(32), phentsize = u16(54), phnum = u16(56)
    expect(UInt64(file.segments.count) == phnum, "\(file.segments.count) segments, e_phnum \(phnum)")
    for (index, segment) in file.segments.enumerated() {
        let (base, overflow) = phoff.addingReportingOverflow(UInt64(index) * phentsize)
        expect(!overflow && base + 56 <= UInt64(bytes.count), "program header \(index) lies outside the file")
        let at = Int(base)
        let fields = [u32(at), u32(at + 4), u64(at + 8), u64(at + 16), u64(at + 24), u64(at + 32), u64(at + 40)]
        expect(
            fields == [
                UInt64(segment.type), UInt64(segment.flags), segment.offset, segment.virtualAddress, segment.physicalAddress,
                segment.fileSize, segment.memorySize,
            ], "program header \(index) read wrongly")
    }
    for section in file.sections where !section.isNoBits {
        if let contents = try? file.contents(of: section) {
            expect(UInt64(contents.count) == section.size && section.offset + section.size <= UInt64(bytes.count), "section \(section.index) contents")
        }
    }
    // The image reader over the same bytes: a typed answer either way.
    do { _ = try Image(name: "fuzz", elf: bytes) } catch { expect(!error.description.isEmpty, "an image error without words") }
    return 0
}
