import GuestPhysical
import HostRunner
import KVM

// Implicit conversion: GuestStubs/scenarios/memory-fault.asm.
extension Catalogue {
    static let memoryFault = Scenario(
        name: "memory-fault",
        proves:
            "an access through the view that does not match a page's state converts exactly that 4 KiB page implicitly, discarding its old content: a private access to a shared page makes it private and not validated / PENDING, so the retried access takes the platform's fault (SNP #VC 0x404 with CR2, TDX #VE with exit reason 48 and the GPA) the guest answers by validating/accepting the page; a shared write to a private page makes it shared and lands",
        failureMeans:
            "the host does not serve implicit conversions, converts the wrong range or direction, keeps the old content, a converted page is not left for the guest to validate/accept (no fault, or the wrong CR2/VE information), or a retried write is lost",
        platforms: [.sevSNP, .tdx],
        // SEPT_VE_DISABLE clear, as KVM's tdx_upm_test creates its TD: a #VE, not the TD's end.
        configure: { options, _ in options.tdxAttributes = 0 },
        expectations: { platform in
            [
                .guestPasses,
                .conversions([
                    ExpectedConversion(0x40_0000, 0x40_1000, to: .private, form: .memoryFault(.access(view: .private, .read))),
                    ExpectedConversion(0x40_1000, 0x40_2000, to: .shared, form: .memoryFault(.access(view: .shared, .write))),
                ]),
                validations([lazyValidation(0x40_0000, platform)]),
                .check("fault.fault_address", equals: 0x40_0000),
                .finalState(GPARange(start: 0x40_0000, end: 0x40_1000), .private),
                .finalState(GPARange(start: 0x40_1000, end: 0x40_2000), .shared),
            ] + (platform == .tdx ? [.check("fault.ve.exit_reason", equals: 48)] : [])
        })
}
