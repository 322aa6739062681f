import HostRunner
import KVM
import Payload

// Implicit conversion: GuestStubs/scenarios/memory-fault.asm.
extension Catalogue {
    /// The form the runner gives a conversion it makes on a KVM_EXIT_MEMORY_FAULT.
    static let memoryFaultForm = "KVM_EXIT_MEMORY_FAULT"

    /// Why memory-fault cannot run here, or nil. KVM exits with KVM_EXIT_MEMORY_FAULT for an
    /// access whose private/shared kind differs from the page's memory attributes only in a VM
    /// type whose private memory it enforces; for a TDX guest the kind is the GPA's shared bit.
    /// The runner has to run the guest in such a VM (and KVM must report the fault's GPA).
    static func memoryFaultSkipReason(_ probe: HostProbe, _ platform: ConversionPlatform) -> String? {
        if probe.vmType == .tdx, probe.capabilities.memoryFaultInfo { return nil }
        let types = probe.capabilities.vmTypes.map(\.description).joined(separator: ", ")
        let attributes = probe.capabilities.memoryAttributes.contains(.private) ? "PRIVATE memory attributes" : "no memory attributes"
        return "KVM_EXIT_MEMORY_FAULT needs a VM type with private memory (a TDX VM: the GPA's shared bit makes an access private or shared); this host has VM types \(types) and \(attributes), and the runner uses the \(probe.vmType) VM type (`enlighten probe`)"
    }

    static let memoryFault = Scenario(
        name: "memory-fault",
        proves: "an access through the view that does not match a page's state (a private access to a shared page, a shared access to a private one) exits with KVM_EXIT_MEMORY_FAULT, the host converts exactly that 4 KiB page, discarding its old content, and the access completes",
        failureMeans: "the host does not serve implicit conversions, converts the wrong range or direction, or keeps the old content",
        platforms: [.tdx],
        skip: memoryFaultSkipReason,
        expectations: { _ in [
            .guestPasses,
            .conversions([
                ExpectedConversion(0x40_0000, 0x40_1000, to: .private, form: memoryFaultForm),
                ExpectedConversion(0x40_1000, 0x40_2000, to: .shared, form: memoryFaultForm),
            ]),
            .finalState(GPARange(start: 0x40_0000, end: 0x40_1000), .private),
            .finalState(GPARange(start: 0x40_1000, end: 0x40_2000), .shared),
        ] })
}
