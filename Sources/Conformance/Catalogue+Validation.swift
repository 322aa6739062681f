import GuestPhysical
import HostRunner

// The guest's half of private memory: GuestStubs/scenarios/validation.asm. Every address is
// the stub's own constant; every answer is the platform's (docs/platform-model.md §2.1, §3.1:
// PVALIDATE RAX/CF, TDX module status codes), not what this runner happened to say.
extension Catalogue {
    static let launchedPage: UInt64 = 0x40_0000
    static let pendingPage: UInt64 = 0x80_0000
    static let region2M: UInt64 = 0xA0_0000
    static let ownedPage: UInt64 = 0x44_0000

    /// One validation as the event log must show it: operation, first address, size, and
    /// the platform's answer (which names the instruction).
    struct ExpectedValidation: CustomStringConvertible {
        let operation: ValidationOperation
        let start: UInt64
        let size: UInt64
        let result: ValidationResult

        var description: String { "\(operation) \(hex(start)) (\(size >> 10) KiB): \(result)" }

        func matches(_ record: ValidationRecord) -> Bool {
            record.operation == operation && record.range.start == start && record.pageSize == size && record.result == result
        }
    }

    /// TDX_SUCCESS for the 4 KiB page at `page`: the TDX module accepted it.
    static func accepted(_ page: UInt64) -> ValidationResult {
        .accept(.accepted(GPARange(start: page, exactByteCount: 0x1000)))
    }

    /// Exactly these validations, in order.
    static func validations(_ expected: [ExpectedValidation]) -> Expectation {
        .custom("validations") { result in
            let actual = result.events.compactMap(\.validation)
            for (index, want) in expected.enumerated() {
                guard index < actual.count else {
                    return "validation \(index + 1) of \(expected.count): expected \(want), the host served only \(actual.count)"
                }
                let got = actual[index]
                guard want.matches(got) else {
                    return
                        "validation \(index + 1) of \(expected.count): expected \(want), got \(got.operation) \(got.range) (\(got.pageSize >> 10) KiB): \(got.result)"
                }
            }
            return actual.count == expected.count ? nil : "expected \(expected.count) validations, the host served \(actual.count)"
        }
    }

    /// What validation.asm asks and what each platform answers, in order.
    static func expectedValidations(_ platform: ConversionPlatform) -> [ExpectedValidation] {
        let page: UInt64 = 0x1000, huge: UInt64 = 2 << 20
        let fallback = (0..<512).map { index in (region2M + UInt64(index) * page) }
        switch platform {
        case .sevSNP:
            let validate = ValidationOperation.validate
            return [
                ExpectedValidation(operation: validate, start: launchedPage, size: page, result: .pvalidate(.noUpdate)),
                ExpectedValidation(operation: validate, start: pendingPage, size: page, result: .pvalidate(.success)),
                ExpectedValidation(operation: validate, start: pendingPage, size: page, result: .pvalidate(.noUpdate)),
                ExpectedValidation(operation: validate, start: region2M, size: huge, result: .pvalidate(.sizeMismatch)),
                ExpectedValidation(operation: validate, start: region2M, size: huge, result: .pvalidate(.sizeMismatch)),
            ] + fallback.map { ExpectedValidation(operation: validate, start: $0, size: page, result: .pvalidate(.success)) } + [
                ExpectedValidation(operation: .rescind, start: ownedPage, size: page, result: .pvalidate(.success)),
                ExpectedValidation(operation: validate, start: ownedPage, size: page, result: .pvalidate(.success)),
                ExpectedValidation(operation: .rescind, start: pendingPage, size: page, result: .pvalidate(.success)),
                ExpectedValidation(operation: .rescind, start: pendingPage, size: page, result: .pvalidate(.noUpdate)),
            ]
        default:
            let accept = ValidationOperation.accept
            return [
                ExpectedValidation(operation: accept, start: launchedPage, size: page, result: .accept(.alreadyAccepted(level: 0))),
                ExpectedValidation(operation: accept, start: pendingPage, size: page, result: accepted(pendingPage)),
                ExpectedValidation(operation: accept, start: pendingPage, size: page, result: .accept(.alreadyAccepted(level: 0))),
                ExpectedValidation(operation: accept, start: region2M, size: huge, result: .accept(.sizeMismatch(level: 1))),
                ExpectedValidation(operation: accept, start: region2M, size: huge, result: .accept(.sizeMismatch(level: 1))),
            ] + fallback.map { ExpectedValidation(operation: accept, start: $0, size: page, result: accepted($0)) } + [
                ExpectedValidation(operation: accept, start: ownedPage, size: page, result: accepted(ownedPage)),
                ExpectedValidation(operation: accept, start: pendingPage, size: 1 << 30, result: .accept(.operandInvalid)),
                ExpectedValidation(operation: accept, start: pendingPage | 1 << 47, size: page, result: .accept(.operandInvalid)),
            ]
        }
    }

    static let validation = Scenario(
        name: "validation",
        proves:
            "the guest's half answers as the hardware does: pages populated at launch are already validated/accepted (again: no update / PAGE_ALREADY_ACCEPTED), other RAM starts pending, validating twice is refused, 2 MiB over 4 KiB entries is a size mismatch that the 4 KiB fallback completes, a hypervisor-owned page validated as private is converted implicitly (destroying its shared content), and bad TDX operands get OPERAND_INVALID",
        failureMeans:
            "PVALIDATE's RAX/CF or TDG.MEM.PAGE.ACCEPT's status differs from the platform's, the launch state is wrong, or an implicit conversion was not served",
        platforms: [.sevSNP, .tdx],
        expectations: { platform in
            [
                .guestPasses,
                .conversions([
                    ExpectedConversion(ownedPage, ownedPage + 0x1000, to: .shared, form: form(platform)),
                    ExpectedConversion(
                        ownedPage, ownedPage + 0x1000, to: .private,
                        form: .memoryFault(platform == .sevSNP ? .pvalidateOfHypervisorOwnedPage : .acceptOfSharedPage)),
                ]),
                validations(expectedValidations(platform)),
                .finalState(GPARange(start: ownedPage, end: ownedPage + 0x1000), .private),
            ]
        })

    // touch-before-accept.asm: two pages of the touch-area [4 MiB, 6 MiB).
    static let touchPendingPage: UInt64 = 0x41_0000
    static let touchStalePage: UInt64 = 0x42_0000

    /// The one 4 KiB validation (SNP PVALIDATE) or acceptance (TDX ACCEPT) of `page` a lazy
    /// guest's fault handler (lazy-guest.inc) makes, as the host logs it.
    static func lazyValidation(_ page: UInt64, _ platform: ConversionPlatform) -> ExpectedValidation {
        platform == .sevSNP
            ? ExpectedValidation(operation: .validate, start: page, size: 0x1000, result: .pvalidate(.success))
            : ExpectedValidation(operation: .accept, start: page, size: 0x1000, result: accepted(page))
    }

    static let touchBeforeAccept = Scenario(
        name: "touch-before-accept",
        proves:
            "a guest touching private memory before validating or accepting it takes the platform's fault — SNP #VC 0x404 with the GVA in CR2, TDX #VE with the EPT violation and GPA in TDG.VP.VEINFO.GET — which it answers by validating/accepting the page, whether the page is not validated / pending after the conversion request alone or after an implicit conversion through a stale private view, which destroys the shared content",
        failureMeans:
            "unvalidated/pending pages are not enforced, the fault or its CR2/VE info is wrong, or a stale-view access did not convert (and destroy) the page",
        platforms: [.sevSNP, .tdx],
        configure: { options, _ in options.tdxAttributes = 0 },
        expectations: { platform in
            [
                .guestPasses,
                .conversions([
                    ExpectedConversion(touchPendingPage, touchPendingPage + 0x1000, to: .shared, form: form(platform)),
                    ExpectedConversion(touchPendingPage, touchPendingPage + 0x1000, to: .private, form: form(platform)),
                    ExpectedConversion(touchStalePage, touchStalePage + 0x1000, to: .shared, form: form(platform)),
                    ExpectedConversion(touchStalePage, touchStalePage + 0x1000, to: .private, form: .memoryFault(.access(view: .private, .read))),
                ]),
                // On SNP en_convert's own rescind (Linux's order: rescind, then the PSC to shared)
                // comes between the handler's two validations.
                validations(
                    [lazyValidation(touchPendingPage, platform)]
                        + (platform == .sevSNP
                            ? [ExpectedValidation(operation: .rescind, start: touchStalePage, size: 0x1000, result: .pvalidate(.success))] : [])
                        + [lazyValidation(touchStalePage, platform)]),
                .check("touch.pending.fault_address", equals: touchPendingPage),
                .check("touch.stale.fault_address", equals: touchStalePage),
            ]
        })

    // validation-order.asm: two pages of the order-area [4 MiB, 6 MiB).
    static let orderSharedFirst: UInt64 = 0x41_0000
    static let orderEarly: UInt64 = 0x42_0000

    static let validationOrder = Scenario(
        name: "validation-order",
        proves:
            "the wrong order of the two halves is caught as on SNP hardware: rescinding after the PSC to shared meets a hypervisor-owned page, which KVM converts back to private implicitly (the guest's shared page is gone) and the rescind reports no update; validating before the PSC to private converts implicitly too, and the PSC then finds nothing to flip",
        failureMeans: "the host lets a PVALIDATE of a hypervisor-owned page succeed or fail differently from the RMP, or does not convert it implicitly",
        platforms: [.sevSNP],
        expectations: { platform in
            [
                .guestPasses,
                .conversions([
                    ExpectedConversion(orderSharedFirst, orderSharedFirst + 0x1000, to: .shared, form: form(platform)),
                    ExpectedConversion(
                        orderSharedFirst, orderSharedFirst + 0x1000, to: .private,
                        form: .memoryFault(.pvalidateOfHypervisorOwnedPage)),
                    ExpectedConversion(orderEarly, orderEarly + 0x1000, to: .shared, form: form(platform)),
                    ExpectedConversion(
                        orderEarly, orderEarly + 0x1000, to: .private,
                        form: .memoryFault(.pvalidateOfHypervisorOwnedPage)),
                    ExpectedConversion(orderEarly, orderEarly + 0x1000, to: .private, form: form(platform), flipped: []),
                ]),
                validations([
                    ExpectedValidation(operation: .rescind, start: orderSharedFirst, size: 0x1000, result: .pvalidate(.noUpdate)),
                    ExpectedValidation(operation: .rescind, start: orderEarly, size: 0x1000, result: .pvalidate(.success)),
                    ExpectedValidation(operation: .validate, start: orderEarly, size: 0x1000, result: .pvalidate(.success)),
                ]),
                .finalState(GPARange(start: orderSharedFirst, end: orderSharedFirst + 0x1000), .private),
                .finalState(GPARange(start: orderEarly, end: orderEarly + 0x1000), .private),
            ]
        })
}
