import GuestABI
import XCTest

/// A GHCB written byte by byte from the GHCB specification's layout (offsets of
/// Linux svm.h `struct ghcb_save_area`; valid bit = offset / 8 in the bitmap at
/// 0x3F0), independent of `GHCBField`, as a guest's #VC handler fills it.
struct RawGHCB {
    static let gpa: UInt64 = 0x80_0000
    var bytes = [UInt8](repeating: 0, count: 4096)

    mutating func put(_ offset: Int, _ value: UInt64, valid: Bool = true) {
        for index in 0..<8 { bytes[offset + index] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(index))) }
        if valid { bytes[0x3F0 + offset / 64] |= 1 << UInt8((offset / 8) % 8) }
    }

    /// SW_EXITCODE 0x390, SW_EXITINFO1 0x398, SW_EXITINFO2 0x3A0, all marked valid.
    init(exitCode: UInt64, info1: UInt64 = 0, info2: UInt64 = 0) {
        put(0x390, exitCode)
        put(0x398, info1)
        put(0x3A0, info2)
    }

    var page: GHCBPage {
        // The bytes are 4096 long by construction.
        guard var page = try? GHCBPage(bytes: bytes) else { preconditionFailure("4096 bytes") }
        page.markClean()
        return page
    }

    func decode() throws(GHCBEventRefusal) -> GHCBEvent {
        try GHCBEventDecoder.decode(page, ghcbGPA: Self.gpa)
    }
}

func quad(_ page: GHCBPage, _ offset: Int) -> UInt64 { page.load(UInt64.self, at: offset) }
func isValidBit(_ page: GHCBPage, _ offset: Int) -> Bool {
    page.load(UInt8.self, at: 0x3F0 + offset / 64) & (1 << UInt8((offset / 8) % 8)) != 0
}

/// Each NAE event decoded as sev.c `sev_es_validate_vmgexit` / `sev_handle_vmgexit`
/// read it, with SVM exit codes from uapi svm.h (0x7B IOIO, 0x7C MSR, 0x72 CPUID,
/// 0x80000001/2 MMIO, 0x8000FFFD HV features, 0x8000FFFE termination).
final class GHCBEventDecoderTests: XCTestCase {
    let shared: UInt64 = RawGHCB.gpa + 0x800

    // MARK: IOIO (0x7B): info1 = port << 16 | size bit (0x10/0x20/0x40) | STR 4 | REP 8 | IN 1

    func testPortOut() throws {
        var raw = RawGHCB(exitCode: 0x7B, info1: (0x3F8 << 16) | 0x10 | 0x200)
        raw.put(0x1F8, 0x1122_3344_5566_7741)
        XCTAssertEqual(try raw.decode(), .portOut(port: 0x3F8, size: 1, value: 0x1122_3344_5566_7741))
    }

    func testPortInNeedsNoRAXAndKeepsItForTheMerge() throws {
        let raw = RawGHCB(exitCode: 0x7B, info1: (0x70 << 16) | 0x20 | 0x1)
        XCTAssertEqual(try raw.decode(), .portIn(port: 0x70, size: 2, rax: 0))
        var withRAX = raw
        withRAX.put(0x1F8, 0xAAAA_BBBB)
        XCTAssertEqual(try withRAX.decode(), .portIn(port: 0x70, size: 2, rax: 0xAAAA_BBBB))
    }

    func testIOIOInfoFields() {
        let info = GHCBIOIOInfo(rawValue: (0xCF8 << 16) | (3 << 10) | 0x200 | 0x40 | 0x8 | 0x4 | 0x1)
        XCTAssertEqual(info.port, 0xCF8)
        XCTAssertEqual(info.segment, 3)
        XCTAssertEqual(info.addressSize, 64)
        XCTAssertEqual(info.operandSize, 4)
        XCTAssertTrue(info.isIn && info.isString && info.isRep)
        XCTAssertEqual(GHCBIOIOInfo(port: 0xCF8, size: 4, isIn: true, isString: true, isRep: true, segment: 3), info)
    }

    func testStringIOThroughTheSharedBuffer() throws {
        // REP OUTSB of 16 bytes: count in SW_EXITINFO2, data at GHCB + 0x800.
        var raw = RawGHCB(exitCode: 0x7B, info1: (0x3F8 << 16) | 0x10 | 0x8 | 0x4, info2: 16)
        raw.put(0x3A8, shared)
        XCTAssertEqual(
            try raw.decode(),
            .stringPortOut(
                port: 0x3F8, size: 1, count: 16, scratch: .ghcbSharedBuffer(offset: 0x800, length: 16)))
        // INSD of 508 items fills the buffer exactly (2032 bytes).
        var ins = RawGHCB(exitCode: 0x7B, info1: (0x60 << 16) | 0x40 | 0x4 | 0x1, info2: 508)
        ins.put(0x3A8, shared)
        XCTAssertEqual(
            try ins.decode(),
            .stringPortIn(
                port: 0x60, size: 4, count: 508, scratch: .ghcbSharedBuffer(offset: 0x800, length: 2032)))
    }

    func testStringIOOutsideTheGHCB() throws {
        var raw = RawGHCB(exitCode: 0x7B, info1: (0x3F8 << 16) | 0x10 | 0x4, info2: 0x1_0000)
        raw.put(0x3A8, 0x20_0000)
        XCTAssertEqual(
            try raw.decode(),
            .stringPortOut(
                port: 0x3F8, size: 1, count: 0x1_0000, scratch: .guestMemory(gpa: 0x20_0000, length: 0x1_0000)))
        raw.put(0x3A0, 0x1_0001) // one byte over KVM's 16-page limit
        XCTAssertEqual(refusal(raw), .malformed(.invalidScratchArea))
    }

    func testStringIOCountsKVMRefusesWithKVMRunFailing() {
        for (size, sizeBit, count): (Int, UInt64, UInt64) in [(1, 0x10, 0x8000_0000), (4, 0x40, 0x2000_0000), (2, 0x20, 1 << 40)] {
            var raw = RawGHCB(exitCode: 0x7B, info1: (0x3F8 << 16) | sizeBit | 0x4, info2: count)
            raw.put(0x3A8, 0x20_0000)
            XCTAssertEqual(refusal(raw), .vcpuStops(.stringCountTooLarge(count: count, size: size)), "count \(count)")
        }
    }

    func testMSR() throws {
        var read = RawGHCB(exitCode: 0x7C, info1: 0)
        read.put(0x308, 0xFFFF_FFFF_C000_0100) // only ECX counts
        XCTAssertEqual(try read.decode(), .msrRead(index: 0xC000_0100))
        var write = RawGHCB(exitCode: 0x7C, info1: 1)
        write.put(0x308, 0x1B)
        write.put(0x1F8, 0xFFFF_FFFF_FEE0_0900)
        write.put(0x310, 0xFFFF_FFFF_0000_0001)
        XCTAssertEqual(try write.decode(), .msrWrite(index: 0x1B, value: 0x1_FEE0_0900))
    }

    func testCPUID() throws {
        var raw = RawGHCB(exitCode: 0x72)
        raw.put(0x1F8, 0x8000_0008)
        raw.put(0x308, 0)
        XCTAssertEqual(try raw.decode(), .cpuid(leaf: 0x8000_0008, subleaf: 0, xcr0: nil, xss: nil))
        var xsave = RawGHCB(exitCode: 0x72)
        xsave.put(0x1F8, 0xD)
        xsave.put(0x308, 1)
        xsave.put(0x3E8, 0x7) // XCR0
        xsave.put(0x140, 0x100) // XSS
        XCTAssertEqual(try xsave.decode(), .cpuid(leaf: 0xD, subleaf: 1, xcr0: 7, xss: 0x100))
    }

    func testMMIO() throws {
        var read = RawGHCB(exitCode: 0x8000_0001, info1: 0xFED0_00F0, info2: 8)
        read.put(0x3A8, shared + 0x10)
        XCTAssertEqual(
            try read.decode(),
            .mmioRead(
                gpa: 0xFED0_00F0, length: 8, scratch: .ghcbSharedBuffer(offset: 0x810, length: 8)))
        var write = RawGHCB(exitCode: 0x8000_0002, info1: 0xFEE0_00B0, info2: 4)
        write.put(0x3A8, shared)
        XCTAssertEqual(
            try write.decode(),
            .mmioWrite(
                gpa: 0xFEE0_00B0, length: 4, scratch: .ghcbSharedBuffer(offset: 0x800, length: 4)))
    }

    func testTerminationHVFeaturesAndTheRest() throws {
        // SW_EXITINFO1[3:0] reason set 1, [11:4] reason code 0x23.
        XCTAssertEqual(try RawGHCB(exitCode: 0x8000_FFFE, info1: 0x231).decode(), .terminate(reasonSet: 1, reasonCode: 0x23))
        XCTAssertEqual(try RawGHCB(exitCode: 0x8000_FFFD).decode(), .hypervisorFeatures)
        XCTAssertEqual(
            refusal(RawGHCB(exitCode: 0x8000_FFFF, info1: 0x29, info2: 7)),
            .vcpuStops(.unsupportedEvent(exitInfo1: 0x29, exitInfo2: 7)))
        XCTAssertEqual(try RawGHCB(exitCode: 0x89).decode(), .notDecoded(exitCode: 0x89))
        var psc = RawGHCB(exitCode: 0x8000_0010)
        psc.put(0x3A8, shared)
        XCTAssertEqual(try psc.decode(), .conversion(.pageStateChange(descriptorOffset: 0x800)))
    }

    // MARK: Malformed forms (SW_EXITINFO1 = 2, SW_EXITINFO2 = GHCB_ERR_*)

    func refusal(_ raw: RawGHCB) -> GHCBEventRefusal? {
        do {
            _ = try raw.decode()
            return nil
        } catch {
            return error
        }
    }

    func testMissingValidBits() {
        var outWithoutRAX = RawGHCB(exitCode: 0x7B, info1: (0x3F8 << 16) | 0x10)
        outWithoutRAX.put(0x1F8, 0x41, valid: false)
        var stringWithoutScratch = RawGHCB(exitCode: 0x7B, info1: (0x3F8 << 16) | 0x10 | 0x4 | 0x1, info2: 1)
        stringWithoutScratch.put(0x3A8, shared, valid: false)
        let msrWithoutRCX = RawGHCB(exitCode: 0x7C)
        var wrmsrWithoutRDX = RawGHCB(exitCode: 0x7C, info1: 1)
        wrmsrWithoutRDX.put(0x308, 0x1B)
        wrmsrWithoutRDX.put(0x1F8, 0)
        var cpuidWithoutRCX = RawGHCB(exitCode: 0x72)
        cpuidWithoutRCX.put(0x1F8, 1)
        var leafDWithoutXCR0 = RawGHCB(exitCode: 0x72)
        leafDWithoutXCR0.put(0x1F8, 0xD)
        leafDWithoutXCR0.put(0x308, 0)
        leafDWithoutXCR0.put(0x3E8, 7, valid: false)
        let mmioWithoutScratch = RawGHCB(exitCode: 0x8000_0001, info1: 0xFED0_0000, info2: 4)
        var noExitInfo2 = RawGHCB(exitCode: 0x72)
        noExitInfo2.bytes[0x3F0 + 0x3A0 / 64] &= ~(1 << UInt8((0x3A0 / 8) % 8))
        let cases: [(String, RawGHCB)] = [
            ("OUT without RAX", outWithoutRAX), ("INS without SW_SCRATCH", stringWithoutScratch),
            ("MSR without RCX", msrWithoutRCX), ("WRMSR without RDX", wrmsrWithoutRDX),
            ("CPUID without RCX", cpuidWithoutRCX), ("CPUID 0xD without XCR0", leafDWithoutXCR0),
            ("MMIO without SW_SCRATCH", mmioWithoutScratch), ("no SW_EXITINFO2", noExitInfo2),
        ]
        for (name, raw) in cases {
            XCTAssertEqual(refusal(raw), .malformed(.missingInput), name)
            XCTAssertEqual(GHCBMalformedInput.missingInput.rawValue, 4)
        }
    }

    func testCPUIDNeedsXCR0OnlyForExactlyLeafD() throws {
        // KVM compares the whole 64-bit RAX with 0xD.
        var raw = RawGHCB(exitCode: 0x72)
        raw.put(0x1F8, 0x1_0000_000D)
        raw.put(0x308, 0)
        XCTAssertEqual(try raw.decode(), .cpuid(leaf: 0xD, subleaf: 0, xcr0: nil, xss: nil))
    }

    func testScratchAreaOutsideTheAllowedPlaces() {
        let placements: [(String, UInt64, UInt64)] = [
            ("zero GPA", 0, 8),
            ("GHCB save area", RawGHCB.gpa + 0x400, 8),
            ("crosses 0xFF0", RawGHCB.gpa + 0xFEC, 8),
            ("larger than the buffer", shared, 2033),
            ("wraps", 0xFFFF_FFFF_FFFF_FFF8, 16),
            ("over 16 pages elsewhere", 0x20_0000, 16 * 4096 + 1),
        ]
        for (name, scratch, length) in placements {
            var raw = RawGHCB(exitCode: 0x8000_0002, info1: 0xFED0_0000, info2: length)
            raw.put(0x3A8, scratch)
            XCTAssertEqual(refusal(raw), .malformed(.invalidScratchArea), name)
        }
        var edge = RawGHCB(exitCode: 0x8000_0002, info1: 0xFED0_0000, info2: 8)
        edge.put(0x3A8, RawGHCB.gpa + 0xFE8)
        XCTAssertNil(refusal(edge), "ending exactly at 0xFF0 is inside the shared buffer")
    }

    func testBadIOSizeIsInvalidInput() {
        for sizeBits: UInt64 in [0x00, 0x30, 0x50, 0x70] {
            var raw = RawGHCB(exitCode: 0x7B, info1: (0x3F8 << 16) | sizeBits)
            raw.put(0x1F8, 0)
            XCTAssertEqual(refusal(raw), .malformed(.invalidInput), "size bits \(sizeBits)")
        }
    }

    func testUnknownEventAndUsage() {
        XCTAssertEqual(refusal(RawGHCB(exitCode: 0x1234)), .malformed(.invalidEvent))
        XCTAssertEqual(refusal(RawGHCB(exitCode: 0x400)), .malformed(.invalidEvent), "NPF is a #VC code, not an event")
        var usage = RawGHCB(exitCode: 0x72)
        usage.bytes[0xFFC] = 1
        XCTAssertEqual(refusal(usage), .malformed(.invalidUsage))
    }
}

/// The hypervisor's answers as KVM leaves the GHCB: bitmap cleared, RAX/RBX/RCX/RDX
/// and SW_EXITINFO1/2 written and marked valid (sev.c `sev_es_sync_to_ghcb`,
/// `svm_vmgexit_success` / `_bad_input` / `_inject_exception`).
final class GHCBEventAnswerTests: XCTestCase {
    func answer(_ raw: RawGHCB, _ answer: GHCBEventAnswer) throws -> (GHCBPage, (gpa: UInt64, bytes: [UInt8])?) {
        var page = raw.page
        let event = try GHCBEventDecoder.decode(page, ghcbGPA: RawGHCB.gpa)
        let writeBack = answer.write(to: &page, for: event)
        return (page, writeBack)
    }

    func assertSuccess(_ page: GHCBPage, info2: UInt64 = 0, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(quad(page, 0x398), 0, file: file, line: line)
        XCTAssertEqual(quad(page, 0x3A0), info2, file: file, line: line)
        for offset in [0x1F8, 0x308, 0x310, 0x318, 0x398, 0x3A0] {
            XCTAssertTrue(isValidBit(page, offset), "valid bit of \(offset)", file: file, line: line)
        }
        XCTAssertFalse(isValidBit(page, 0x390), "SW_EXITCODE is not written back", file: file, line: line)
    }

    func testPortInMergesOneAndTwoByteValuesAndZeroExtendsFour() throws {
        var raw = RawGHCB(exitCode: 0x7B, info1: (0x71 << 16) | 0x10 | 0x1)
        raw.put(0x1F8, 0x1122_3344_5566_7788)
        var (page, _) = try answer(raw, .portIn(value: 0xAB))
        XCTAssertEqual(quad(page, 0x1F8), 0x1122_3344_5566_77AB)
        assertSuccess(page)
        raw = RawGHCB(exitCode: 0x7B, info1: (0x71 << 16) | 0x20 | 0x1)
        raw.put(0x1F8, 0x1122_3344_5566_7788)
        (page, _) = try answer(raw, .portIn(value: 0xBEEF))
        XCTAssertEqual(quad(page, 0x1F8), 0x1122_3344_5566_BEEF)
        raw = RawGHCB(exitCode: 0x7B, info1: (0x71 << 16) | 0x40 | 0x1)
        raw.put(0x1F8, 0x1122_3344_5566_7788)
        (page, _) = try answer(raw, .portIn(value: 0xDEAD_BEEF))
        XCTAssertEqual(quad(page, 0x1F8), 0xDEAD_BEEF)
    }

    func testStringInWritesTheSharedBuffer() throws {
        var raw = RawGHCB(exitCode: 0x7B, info1: (0x60 << 16) | 0x10 | 0x4 | 0x1, info2: 3)
        raw.put(0x3A8, RawGHCB.gpa + 0x900)
        let (page, writeBack) = try answer(raw, .scratchData([1, 2, 3]))
        XCTAssertNil(writeBack)
        XCTAssertEqual(Array(page.bytes[0x900..<0x903]), [1, 2, 3])
        assertSuccess(page)
    }

    func testMMIOReadOutsideTheGHCBIsWrittenBackByTheRunner() throws {
        var raw = RawGHCB(exitCode: 0x8000_0001, info1: 0xFED0_0000, info2: 4)
        raw.put(0x3A8, 0x30_0000)
        let (page, writeBack) = try answer(raw, .scratchData([9, 8, 7, 6]))
        XCTAssertEqual(writeBack?.gpa, 0x30_0000)
        XCTAssertEqual(writeBack?.bytes, [9, 8, 7, 6])
        assertSuccess(page)
    }

    func testMSRReadSplitsIntoEAXAndEDX() throws {
        var raw = RawGHCB(exitCode: 0x7C)
        raw.put(0x308, 0x10)
        let (page, _) = try answer(raw, .msrRead(value: 0x1234_5678_9ABC_DEF0))
        XCTAssertEqual(quad(page, 0x1F8), 0x9ABC_DEF0)
        XCTAssertEqual(quad(page, 0x310), 0x1234_5678)
        XCTAssertEqual(quad(page, 0x308), 0x10, "RCX echoed")
        assertSuccess(page)
    }

    func testRefusedMSRAsksForGeneralProtection() throws {
        var raw = RawGHCB(exitCode: 0x7C, info1: 1)
        raw.put(0x308, 0xC001_0130)
        raw.put(0x1F8, 0)
        raw.put(0x310, 0)
        let (page, _) = try answer(raw, .generalProtection)
        XCTAssertEqual(quad(page, 0x398), 1)
        XCTAssertEqual(quad(page, 0x3A0), 0x8000_030D)
    }

    func testCPUIDAnswer() throws {
        var raw = RawGHCB(exitCode: 0x72)
        raw.put(0x1F8, 0x8000_001F)
        raw.put(0x308, 0)
        let (page, _) = try answer(raw, .cpuid(eax: 0x1B, ebx: 0x33, ecx: 0, edx: 0xFFFF_FFFF))
        XCTAssertEqual([0x1F8, 0x318, 0x308, 0x310].map { quad(page, $0) }, [0x1B, 0x33, 0, 0xFFFF_FFFF])
        assertSuccess(page)
    }

    func testHypervisorFeaturesAndMalformedAnswers() throws {
        var (page, _) = try answer(RawGHCB(exitCode: 0x8000_FFFD), .hypervisorFeatures(0x3))
        assertSuccess(page, info2: 3)
        (page, _) = try answer(RawGHCB(exitCode: 0x8000_FFFD), .malformed(.invalidInput))
        XCTAssertEqual(quad(page, 0x398), 2)
        XCTAssertEqual(quad(page, 0x3A0), 5)
    }
}
