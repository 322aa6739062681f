import HostRunner

// Raw MMIO intercepted as the hardware does it: GuestStubs/scenarios/mmio-intercept.asm.
extension Catalogue {
    static let mmioIntercept = Scenario(
        name: "mmio-intercept",
        proves:
            "a raw load and store through the shared view of a GPA no RAM backs are not executed but raise the platform's exception at the instruction: SNP #VC with error code 0x400 (SVM_EXIT_NPF); TDX #VE whose TDG.VP.VEINFO.GET gives exit reason 48 (EPT violation), the access bit, the GLA and the shared GPA",
        failureMeans:
            "the MMIO access reached a device or stopped the run, was taken past the instruction, or the exception's error code or VE information differs from what KVM's MMIO SPTEs make the hardware deliver",
        platforms: [.sevSNP, .tdx],
        expectations: { platform in
            [
                .guestPasses,
                .conversions([]),
                .check("mmio.read.faults", equals: 1),
                .check("mmio.write.faults", equals: 2),
            ]
                + (platform == .tdx
                    ? [.check("mmio.read.ve.exit_reason", equals: 48), .check("mmio.write.ve.exit_reason", equals: 48)]
                    : [.check("mmio.read.vc_error", equals: 0x400), .check("mmio.write.vc_error", equals: 0x400)])
        })
}
