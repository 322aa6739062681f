import GuestABI
import GuestPhysical
import Payload
import XCTest

@testable import HostRunner

/// The words each typed record renders to: the event log, `run`'s output, `--json` and the
/// conformance reports all print these, so they are pinned here case by case.
final class RecordWordsTests: XCTestCase {
    func testConversionFormWords() {
        let words: [(ConversionForm, String)] = [
            (.request(.kvmHypercall), "KVM_HC_MAP_GPA_RANGE"),
            (.request(.ghcbMSR), "GHCB MSR protocol PSC"),
            (.request(.ghcbPSC), "GHCB PSC NAE event"),
            (.request(.tdxMapGPA), "TDVMCALL MapGPA"),
            (.memoryFault(nil), "KVM_EXIT_MEMORY_FAULT"),
            (.memoryFault(.access(view: .private, .read)), "KVM_EXIT_MEMORY_FAULT (private read)"),
            (.memoryFault(.access(view: .private, .write)), "KVM_EXIT_MEMORY_FAULT (private write)"),
            (.memoryFault(.access(view: .shared, .read)), "KVM_EXIT_MEMORY_FAULT (shared read)"),
            (.memoryFault(.access(view: .shared, .write)), "KVM_EXIT_MEMORY_FAULT (shared write)"),
            (.memoryFault(.pvalidateOfHypervisorOwnedPage), "KVM_EXIT_MEMORY_FAULT (PVALIDATE of a hypervisor-owned page)"),
            (.memoryFault(.acceptOfSharedPage), "KVM_EXIT_MEMORY_FAULT (TDG.MEM.PAGE.ACCEPT of a shared page)"),
        ]
        for (form, expected) in words {
            XCTAssertEqual(form.description, expected)
            XCTAssertEqual("\(form)", expected, "interpolation renders the same words")
            XCTAssertEqual(form.isImplicit, expected.hasPrefix("KVM_EXIT_MEMORY_FAULT"), expected)
        }
        // Every interface has a form of its own.
        XCTAssertEqual(Set(ConversionInterface.allCases.map { ConversionForm.request($0).description }).count, ConversionInterface.allCases.count)
    }

    func testConversionOutcomeWords() {
        let words: [(ConversionOutcome, String)] = [
            (.converted, "converted"), (.outsideGuestMemory, "outsideGuestMemory"),
            (.invalidRequest, "invalidRequest"), (.hostFailure, "hostFailure"),
        ]
        for (outcome, expected) in words { XCTAssertEqual(outcome.name, expected) }
    }

    func testValidationInstructionAndOperationWords() {
        XCTAssertEqual(ValidationInstruction.pvalidate.description, "PVALIDATE")
        XCTAssertEqual(ValidationInstruction.accept.description, "TDG.MEM.PAGE.ACCEPT")
        XCTAssertEqual(ValidationOperation.validate.description, "validate")
        XCTAssertEqual(ValidationOperation.rescind.description, "rescind")
        XCTAssertEqual(ValidationOperation.accept.description, "accept")
        XCTAssertEqual(ValidationOperation.invalid(edx: 2).description, "edx 0x2")
        // PVALIDATE's EDX names the operation: 1 validate, 0 rescind, anything else FAIL_INPUT.
        XCTAssertEqual(ValidationOperation(pvalidateEDX: 1), .validate)
        XCTAssertEqual(ValidationOperation(pvalidateEDX: 0), .rescind)
        XCTAssertEqual(ValidationOperation(pvalidateEDX: 0xFFFF_FFFF), .invalid(edx: 0xFFFF_FFFF))
    }

    /// PVALIDATE's RAX/CF and the TDX module's status in RAX (with the level, or the RCX operand),
    /// as `PageStateMap.PValidateResult` and `AcceptResult` model them (docs/platform-model.md
    /// §2.1, §3.1). Every answer a guest can get has words of its own; the rest read "-".
    func testValidationResultWordsAndChange() {
        let page = GPARange(start: 0x40_0000, exactByteCount: 0x1000)
        let words: [(ValidationResult, String, changed: Bool, ValidationInstruction)] = [
            (.pvalidate(.success), "success (RAX 0)", true, .pvalidate),
            (.pvalidate(.noUpdate), "no update (RAX 0, CF 1)", false, .pvalidate),
            (.pvalidate(.failInput), "FAIL_INPUT (RAX 1)", false, .pvalidate),
            (.pvalidate(.sizeMismatch), "FAIL_SIZEMISMATCH (RAX 6)", false, .pvalidate),
            (.pvalidate(.hypervisorOwned(page)), "-", false, .pvalidate),
            (.pvalidate(.outsideMemory), "-", false, .pvalidate),
            (.accept(.accepted(page)), "TDX_SUCCESS", true, .accept),
            (.accept(.alreadyAccepted(level: 0)), "TDX_PAGE_ALREADY_ACCEPTED (0xb0a00000000)", false, .accept),
            (.accept(.alreadyAccepted(level: 1)), "TDX_PAGE_ALREADY_ACCEPTED (0xb0a00000001)", false, .accept),
            (.accept(.sizeMismatch(level: 1)), "TDX_PAGE_SIZE_MISMATCH (0xc0000b0b00000001)", false, .accept),
            (.accept(.operandInvalid), "TDX_OPERAND_INVALID (0xc000010000000001)", false, .accept),
            (.accept(.notPrivate(page)), "-", false, .accept),
            (.accept(.outsideMemory), "-", false, .accept),
        ]
        for (result, expected, changed, instruction) in words {
            XCTAssertEqual(result.description, expected)
            XCTAssertEqual(result.changed, changed, expected)
            let record = ValidationRecord(
                interface: instruction == .pvalidate ? .sevSNP : .tdx, operation: .validate, range: page,
                pageSize: page.size, result: result, transport: .trap)
            XCTAssertEqual(record.instruction, instruction, expected)
            XCTAssertEqual(record.changed, changed, expected)
        }
    }

    /// A launch page's source as `run --json` (firmware.launchPages) and the SNP digest's steps name it.
    func testLaunchPageSourceWords() {
        let words: [(LaunchPage.Source, String)] = [
            (.image, "image"),
            (.sevSection(index: 2, .cpuid), "SEV section 2 (CPUID)"),
            (.sevSection(index: 0, .snpSecureMemory), "SEV section 0 (SNP_SEC_MEM)"),
            (.sevSection(index: 5, .kernelHashes, kernelHashTable: true), "SEV section 5 (KERNEL_HASHES), the kernel/initrd/cmdline hash table"),
            (.tdHobSection, "TDX TD_HOB section"),
        ]
        for (source, expected) in words { XCTAssertEqual(source.description, expected) }
    }

    /// The requests the host served besides conversions, as the event log names them.
    func testServedRequestWords() {
        let words: [(ServedRequest, String)] = [
            (.sevInformation, "SEV_INFO"),
            (.registerGHCB(gpa: 0x10_3000), "REGISTER_GHCB 0x103000"),
            (.hypervisorFeatures, "HV_FEATURES"),
            (.tdVPInfo, "TDG.VP.INFO"),
            (.veInfoGet, "TDG.VP.VEINFO.GET"),
            (.mapGPA(gpa: 0x40_0000, size: 0x40_0000), "MapGPA gpa 0x400000 size 0x400000"),
            (.ciphertextRead(page: 0x40_0000, at: "main+0x4"), "C=0 read of private page 0x400000 at main+0x4"),
            (.unvalidatedAccess(.read, gpa: 0x40_0008, at: "main"), "read of unvalidated page 0x400008 at main"),
            (.unvalidatedAccess(.write, gpa: 0x40_0008, at: "main"), "write of unvalidated page 0x400008 at main"),
            (.pendingAccess(.read, gpa: 0x40_0000, at: "probe"), "read of pending page 0x400000 at probe"),
            (.pendingAccess(.write, gpa: 0x40_0000, at: "probe"), "write of pending page 0x400000 at probe"),
            (.pvalidate(at: "entry+0x10"), "PVALIDATE at entry+0x10"),
        ]
        for (request, expected) in words { XCTAssertEqual(request.description, expected) }
    }
}
