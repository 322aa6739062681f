import GuestABI
import GuestPhysical

/// TDCALL decoding and TDVMCALL<MapGPA> on register sets from the input, against the TDX
/// specs restated: TDX module ABI (the leaves served: TDG.VP.VMCALL 0, TDG.VP.INFO 1,
/// TDG.VP.VEINFO.GET 3, TDG.MEM.PAGE.ACCEPT 6; an unknown leaf or RAX bits 63:16 → TDX_OPERAND_INVALID
/// naming RAX; TDG.VP.VMCALL with RCX exposing RAX, RCX or RSP or with bits 63:32 set →
/// TDX_OPERAND_INVALID naming RCX) and the GHCI MapGPA rules as KVM's tdx_map_gpa applies them
/// (a zero, wrapping, beyond-GPAW or shared-bit-straddling range → INVALID_OPERAND, then an
/// unaligned one → ALIGN_ERROR; else chunks of at most 2 MiB that together are the range).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTDCall(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    var input = FuzzInput(data, size)
    let operandInvalid: UInt64 = 0xC000_0100_0000_0000
    var registers = TDCallRegisters()
    for index in 0..<16 { registers[gpr: index] = input.u64() }
    let shape = input.u8()
    if shape & 1 == 0 { registers.rax = UInt64(shape >> 1 & 7) } // mostly leaves 0..7
    if shape & 0x10 == 0 { registers.rcx = 0xFC00 } // R10-R15 exposed
    if shape & 0x20 == 0 { registers.r10 = 0; registers.r11 = 0x10001 } // TDVMCALL MapGPA
    let width: TDXGuestPhysicalAddressWidth = shape & 0x40 == 0 ? .bits48 : .bits52
    let failAt = Int(input.u8() % 6)

    let leaf = registers.rax
    switch TDCall.decode(registers) {
    case .failed(let status):
        let wantRAX = leaf >> 16 != 0 || ![0, 1, 3, 6].contains(leaf & 0xFFFF)
        let wantRCX = !wantRAX && (registers.rcx & 0b1_0011 != 0 || registers.rcx >> 32 != 0)
        expect(
            (wantRAX && status == operandInvalid) || (wantRCX && status == operandInvalid | 1),
            "TDCALL rax \(hex(leaf)) rcx \(hex(registers.rcx)) failed with \(hex(status))")
    case .vpInfo:
        expect(leaf == 1, "TDG.VP.INFO from leaf \(hex(leaf))")
    case .veInfoGet:
        expect(leaf == 3, "TDG.VP.VEINFO.GET from leaf \(hex(leaf))")
    case .memPageAccept:
        expect(leaf == 6, "TDG.MEM.PAGE.ACCEPT from leaf \(hex(leaf))")
    case .vmcall(let call, let mask):
        expect(leaf == 0 && registers.rcx & 0b1_0011 == 0 && registers.rcx >> 32 == 0, "TDVMCALL from rax \(hex(leaf)) rcx \(hex(registers.rcx))")
        expect(UInt64(mask) == registers.rcx & 0xFFFF, "exposed mask")
        if case .mapGPA(let gpa, let size) = call {
            // MapGPA takes R12 and R13; the host sees an unexposed register as zero.
            expect(gpa == (mask & (1 << 12) != 0 ? registers.r12 : 0) && size == (mask & (1 << 13) != 0 ? registers.r13 : 0), "MapGPA operands")
            checkMapGPA(gpa: gpa, size: size, width: width, failAt: failAt)
        }
    }
    return 0
}

private func checkMapGPA(gpa: UInt64, size: UInt64, width: TDXGuestPhysicalAddressWidth, failAt: Int) {
    let invalidOperand: UInt64 = 0x8000_0000_0000_0000, alignError: UInt64 = 0x8000_0000_0000_0002
    let bits: UInt64 = width == .bits48 ? 48 : 52
    let sharedBit: UInt64 = 1 << (bits - 1)
    let end = UInt128(gpa) + UInt128(size)
    let last = end > 0 ? UInt64(clamping: end - 1) : 0
    let invalid = size == 0 || end > UInt128(UInt64.max) || gpa >> bits != 0 || last >> bits != 0 || (gpa & sharedBit) != (last & sharedBit)
    let unaligned = gpa & 0xFFF != 0 || size & 0xFFF != 0
    let processor: TDXMapGPAProcessor
    do {
        processor = try TDXMapGPAProcessor(gpa: gpa, size: size, width: width)
    } catch {
        expect(
            error.completion.status == (invalid ? invalidOperand : alignError) && (invalid || unaligned),
            "MapGPA \(hex(gpa)) +\(hex(size)) refused with \(hex(error.completion.status))")
        expect(error.completion.r11 == gpa, "R11 after a refused MapGPA")
        return
    }
    expect(!invalid && !unaligned, "MapGPA \(hex(gpa)) +\(hex(size)) (GPAW \(bits)) accepted")
    var mapping = processor
    let base = gpa & ~sharedBit
    var cursor = base
    var chunks = 0
    // A MapGPA may name up to 2^51 bytes, 2^30 chunks: follow the first 1024 chunks of a long
    // one (the rest repeat them), and all of any shorter one.
    var completion: TDVMCallCompletion?
    while completion == nil, chunks < 1024 {
        let step = mapping.step { request in
            chunks += 1
            expect(request.range.start == cursor && request.range.pageCount <= 512 && request.range.pageCount > 0, "chunk \(request) after \(hex(cursor))")
            expect(request.direction == (gpa & sharedBit != 0 ? .toShared : .toPrivate), "direction from the shared bit")
            cursor = request.range.end
            return chunks == failAt ? .hostFailure : .converted
        }
        if case .finished(let done) = step { completion = done }
    }
    guard let completion else {
        expect(UInt128(cursor) < UInt128(base) + UInt128(size), "1024 chunks reached the end but the call did not finish")
        return
    }
    if failAt > 0, chunks == failAt {
        expect(completion.status == invalidOperand, "a failed chunk answers INVALID_OPERAND, got \(hex(completion.status))")
    } else {
        expect(
            completion.status == 0 && UInt128(cursor) == UInt128(base) + UInt128(size),
            "MapGPA \(hex(gpa)) +\(hex(size)) ended at \(hex(cursor)) with \(hex(completion.status))")
    }
}
