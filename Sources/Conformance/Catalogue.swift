import GuestABI
import GuestPhysical
import HostRunner

/// Every scenario the suite runs. README.md's scenario table describes the same list.
public enum Catalogue {
    /// In the order the suite starts them: the longest-running first, so that the cases
    /// running side by side finish close together (docs/scenarios.md describes each).
    public static let all: [Scenario] = [
        ovmfSEC,
        ovmfSECNoPValidate,
        tdxRetry,
        payloadIntegrity(layout: .direct64),
        payloadIntegrity(layout: .firmware),
        roundTrip,
        largeRangeScenario,
        ghcbBatch,
        hostileGHCB,
        roundTripSharedFirst,
        splitMerge,
        idempotent,
        concurrentDisjoint,
        concurrentSame,
        hostileKVM,
        hostileTDX,
        ghcbNAEEvents,
        tdxTDVMCalls,
        msrIntercepts,
        ghcbTerminate,
        tdxFatalError,
        forwardedIntercepts,
        rawCPUIDCaught,
        tdxForwardedHalt,
        validation,
        touchBeforeAccept,
        validationOrder,
        memoryFault,
        mmioIntercept,
        snpLaunchPages,
        snpLaunchPagesCorruptCPUID,
        tdxTDHob,
        tdxTDHobOverROM,
        ovmfSECOmittedSection,
        ovmfSECNoAccept,
    ]

    /// The form each interface's conversions take in the event log.
    static func form(_ platform: ConversionPlatform) -> ConversionForm {
        switch platform {
        case .kvm: .request(.kvmHypercall)
        case .sevSNP: .request(.ghcbPSC)
        case .tdx: .request(.tdxMapGPA)
        }
    }

    // GuestStubs/scenarios/roundtrip.asm converts these 64 KiB of its 2 MiB area.
    static let roundTripWindow = (start: UInt64(0x41_0000), end: UInt64(0x42_0000))

    static let roundTrip = Scenario(
        name: "roundtrip",
        proves:
            "a range goes private→shared→private: the host logs exactly those two conversions, the old content is gone after each flip, and writes through the shared view read back",
        failureMeans: "the interface's request or answer is wrong, or conversions are not destructive",
        expectations: { platform in
            [
                .guestPasses,
                .conversions([
                    ExpectedConversion(roundTripWindow.start, roundTripWindow.end, to: .shared, form: form(platform)),
                    ExpectedConversion(roundTripWindow.start, roundTripWindow.end, to: .private, form: form(platform)),
                ]),
                .finalState(GPARange(start: 0x40_0000, end: 0x60_0000), .private),
            ]
        })

    static let ghcbBatch = Scenario(
        name: "ghcb-batch",
        proves:
            "one PSC call carries exactly 253 entries, 2 MiB entries merge into one request, the MSR protocol converts one page, and 254 entries are refused with INVALID_HDR",
        failureMeans: "the GHCB page layout, PSC header/entry encoding or batch limit differs from the GHCB specification",
        platforms: [.sevSNP],
        expectations: { _ in
            [
                .guestPasses,
                .conversions([
                    ExpectedConversion(0x40_0000, 0x4F_D000, to: .shared, form: .request(.ghcbPSC)),
                    ExpectedConversion(0x40_0000, 0x4F_D000, to: .private, form: .request(.ghcbPSC)),
                    ExpectedConversion(0x40_0000, 0x80_0000, to: .shared, form: .request(.ghcbPSC)),
                    ExpectedConversion(0x40_0000, 0x80_0000, to: .private, form: .request(.ghcbPSC)),
                    ExpectedConversion(0x7F_F000, 0x80_0000, to: .shared, form: .request(.ghcbMSR)),
                    ExpectedConversion(0x7F_F000, 0x80_0000, to: .private, form: .request(.ghcbMSR)),
                ]),
                .rejections(1),
            ]
        })

    static let tdxRetry = Scenario(
        name: "tdx-retry",
        proves: "a MapGPA the host answers with TDVMCALL_STATUS_RETRY is resumed by the guest from R11 and completes",
        failureMeans: "the guest or host mishandles RETRY and the resume GPA in R11",
        platforms: [.tdx],
        configure: { options, _ in options.injectRetries = 1 },
        expectations: { _ in
            [
                .guestPasses,
                .conversions([
                    ExpectedConversion(0x40_0000, 0x60_0000, to: .shared, form: .request(.tdxMapGPA)),
                    ExpectedConversion(0x60_0000, 0x80_0000, to: .shared, form: .request(.tdxMapGPA)),
                    ExpectedConversion(0x40_0000, 0x60_0000, to: .private, form: .request(.tdxMapGPA)),
                    ExpectedConversion(0x60_0000, 0x80_0000, to: .private, form: .request(.tdxMapGPA)),
                ]),
            ]
        })

    static let hostileKVM = Scenario(
        name: "hostile-kvm",
        proves:
            "unaligned, zero-length, wrapping, reserved-attribute and out-of-memslot hypercalls each get KVM's error in rax, and the guest keeps converting afterwards",
        failureMeans: "a malformed KVM_HC_MAP_GPA_RANGE got the wrong error, or converted something",
        platforms: [.kvm],
        expectations: { _ in
            [
                .guestPasses,
                .rejections(4),
                .conversions([
                    ExpectedConversion(0x100_0000_0000, 0x100_0000_1000, to: .private, outcome: .outsideGuestMemory),
                    ExpectedConversion(0x40_0000, 0x40_1000, to: .shared),
                    ExpectedConversion(0x40_0000, 0x40_1000, to: .private),
                ]),
            ]
        })

    static let hostileGHCB = Scenario(
        name: "hostile-ghcb",
        proves: "bad PSC headers and entries, malformed GHCBs and bad MSR-protocol requests each get the GHCB specification's error, and the guest continues",
        failureMeans: "a malformed GHCB request got the wrong SW_EXITINFO or MSR response, or converted something",
        platforms: [.sevSNP],
        expectations: { _ in
            [
                .guestPasses,
                .rejections(10),
                .conversions([
                    ExpectedConversion(0x100_0000_0000, 0x100_0000_1000, to: .shared, outcome: .outsideGuestMemory),
                    ExpectedConversion(0x100_0000_0000, 0x100_0000_1000, to: .shared, form: .request(.ghcbMSR), outcome: .outsideGuestMemory),
                    ExpectedConversion(0x40_0000, 0x40_1000, to: .shared),
                    ExpectedConversion(0x40_0000, 0x40_1000, to: .private),
                ]),
            ]
        })

    static let hostileTDX = Scenario(
        name: "hostile-tdx",
        proves:
            "unaligned, zero, wrapping, shared-bit-straddling and out-of-memslot MapGPAs, unknown subfunctions and unknown TDCALL leaves each get the TDX status the specs define, and the guest continues",
        failureMeans: "a malformed TDVMCALL got the wrong status in R10/RAX or the wrong R11",
        platforms: [.tdx],
        expectations: { _ in
            [
                .guestPasses,
                .rejections(9),
                .conversions([
                    ExpectedConversion(0x100_0000_0000, 0x100_0000_1000, to: .private, outcome: .outsideGuestMemory),
                    ExpectedConversion(0x40_0000, 0x40_1000, to: .shared),
                    ExpectedConversion(0x40_0000, 0x40_1000, to: .private),
                ]),
            ]
        })
}
