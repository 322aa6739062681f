import HostRunner
import KVM
import Payload

// Implicit conversion: GuestStubs/scenarios/memory-fault.asm.
extension Catalogue {
    /// The forms the runner gives the conversions it makes on an access through the wrong
    /// view (KVM_EXIT_MEMORY_FAULT where KVM enforces private memory, the runner's own
    /// enforcement elsewhere: the same conversion either way).
    static func memoryFaultForm(_ view: String) -> String { "KVM_EXIT_MEMORY_FAULT (\(view))" }

    static let memoryFault = Scenario(
        name: "memory-fault",
        proves: "an access through the view that does not match a page's state converts exactly that 4 KiB page implicitly, discarding its old content: a private access to a shared page makes it private and PENDING, so the retried access takes a #VE (TDG.VP.VEINFO.GET: EPT violation, the GPA) the guest answers by accepting the page; a shared access to a private page makes it shared and completes",
        failureMeans: "the host does not serve implicit conversions, converts the wrong range or direction, keeps the old content, or a pending page is not PENDING (no #VE, or wrong VE information)",
        platforms: [.tdx],
        // SEPT_VE_DISABLE clear, as KVM's tdx_upm_test creates its TD: a #VE, not the TD's end.
        configure: { options, _ in options.tdxAttributes = 0 },
        expectations: { _ in [
            .guestPasses,
            .conversions([
                ExpectedConversion(0x40_0000, 0x40_1000, to: .private, form: memoryFaultForm("private read")),
                ExpectedConversion(0x40_1000, 0x40_2000, to: .shared, form: memoryFaultForm("shared read")),
            ]),
            .check("fault.ve.exit_reason", equals: 48),
            .check("fault.ve.gpa", equals: 0x40_0000),
            .finalState(GPARange(start: 0x40_0000, end: 0x40_1000), .private),
            .finalState(GPARange(start: 0x40_1000, end: 0x40_2000), .shared),
        ] })
}
