import GuestABI
import GuestPhysical
import Payload

/// How to run an image. Defaults are what `enlighten run` uses without options.
public struct RunOptions: Sendable {
    /// Guest RAM in bytes, from GPA 0.
    public var memory: UInt64 = 64 << 20
    /// The file guest RAM lives in; nil: the probe's choice (guest_memfd where a default VM
    /// can have it, else the memfd stand-in). `.memfd` forces the stand-in on any host.
    public var backing: RAMBacking.Kind?
    public var vcpus: Int = 1
    /// Wall-clock limit for the whole run, in seconds: finite, positive and at most
    /// `maximumTimeout` (the watchdog is what bounds a spinning guest).
    public var timeout: Double = 10
    /// A firmware volume's run ends, passing, at this milestone (`--until`).
    public var until: FirmwareMilestone?
    /// Keep the first this many events of each kind (`RunEvent.Kind`), across all vCPUs,
    /// and count the rest: what bounds the host memory a run's log can take whatever the
    /// guest does (docs/report-protocol.md, "Host limits").
    public var maxEvents = RunOptions.defaultMaxEvents
    /// Stop after this many malformed report records.
    public var malformedRecordLimit = 64
    /// Keep at most this much log text.
    public var logLimit = 1 << 20
    /// Which confidential platform the guest is told it runs on (CPUID, SEV_STATUS), and so
    /// which conversion interface it uses; nil: a plain KVM guest with no identity programmed.
    public var platform: ConversionPlatform?
    /// Force one transport for every interface instead of the probe's choice.
    public var transport: Transport?
    /// TDX: force this many TDVMCALL_STATUS_RETRY answers to MapGPA (after a chunk).
    public var injectRetries = 0
    /// How strictly GHCB Page State Change entries are checked (GuestABI's policies).
    public var pageStateChangePolicy: PageStateChangePolicy = .strict
    /// TDX: the guest physical address width TDG.VP.INFO reports; the shared bit is GPAW-1.
    public var tdxAddressWidth: TDXGuestPhysicalAddressWidth = .bits48
    /// TDX: the TD ATTRIBUTES TDG.VP.INFO reports in RDX. SEPT_VE_DISABLE (bit 28) decides
    /// what a private access to a pending page meets: set (the default, what Linux requires
    /// and QEMU's sept-ve-disable=on gives), a TD exit KVM reports as "guest access before
    /// accepting"; clear, a #VE the guest can handle.
    public var tdxAttributes: UInt64 = RunOptions.tdxSeptVEDisable

    /// TD ATTRIBUTES.SEPT_VE_DISABLE (tdx-module td_param_attributes_t; Linux TDX_ATTR_SEPT_VE_DISABLE_BIT).
    public static let tdxSeptVEDisable: UInt64 = 1 << 28

    /// Catch raw CPUID as SEV-SNP and TDX hardware does (ghcb, tdx only). KVM answers a CPUID
    /// inside KVM_RUN, so a normal run never sees one; with this set the runner single-steps
    /// every vCPU (KVM_GUESTDBG_SINGLESTEP) and looks at each instruction before it runs: a
    /// CPUID the platform intercepts gets its exception instead (#VC 0x72; TDX #VE exit
    /// reason 10 for the leaves the TDX module does not answer). Costs a debug exit per guest
    /// instruction (docs/platform-model.md §6).
    public var catchRawCPUID = false

    /// SNP launch: the kernel-hashes page (the hash table QEMU writes for `-kernel`, at its
    /// offset in the page) to put in the image's SNP_KERNEL_HASHES section; nil: zero pages.
    public var snpKernelHashPage: [UInt8]?
    /// Firmware volumes on ghcb or tdx: the index of one metadata section (as `enlighten
    /// inspect` numbers the platform's SEV or TDX metadata) that the launch leaves out, as a
    /// buggy VMM would (`--launch-omit-section`): an SNP_SEC_MEM section's pages stay private
    /// and not validated, a TEMP_MEM section's pending (not added, and unaccepted in the TD
    /// HOB). Only those section types (`FirmwareMetadataSections.checkOmission`).
    public var launchOmittedSection: Int?
    /// A deliberate defect in the launch pages (conformance negative twins only).
    public var launchFault: LaunchFault?

    public init() {}

    public static let maximumVCPUs = 16
    /// One hour: longer than any scenario needs by orders of magnitude, short enough that a
    /// mistyped timeout cannot leave a spinning guest running for good.
    public static let maximumTimeout: Double = 3600
    public static let defaultMaxEvents = 10_000
    public static let maximumMaxEvents = 1_000_000

    /// Checks every option against its range, once, wherever the options come from (the CLI
    /// calls this at parse time, `Runner.run` and `Machine` before they create anything):
    /// one one-line error naming the option for the first that is out of range.
    public func validate() throws(RunError) {
        guard timeout.isFinite, timeout > 0, timeout <= Self.maximumTimeout else {
            throw .invalidOptions("--timeout must be a number of seconds above 0 and at most \(Int(Self.maximumTimeout)) (got \(timeout))")
        }
        guard (1...Self.maximumVCPUs).contains(vcpus) else {
            throw .invalidOptions("--vcpus must be between 1 and \(Self.maximumVCPUs) (got \(vcpus))")
        }
        guard injectRetries >= 0 else { throw .invalidOptions("--inject-retry must be 0 or more (got \(injectRetries))") }
        guard (1...Self.maximumMaxEvents).contains(maxEvents) else {
            throw .invalidOptions("--max-events must be between 1 and \(Self.maximumMaxEvents) (got \(maxEvents))")
        }
        guard memory >= 2 << 20, memory % (2 << 20) == 0, memory <= Layout.ramWindow.end else {
            throw .invalidOptions("--memory must be a multiple of 2 MiB between 2 MiB and 3 GiB (got \(hex(memory)))")
        }
        // Only SEV-SNP and TDX intercept CPUID; KVM answers a kvm guest's itself, as it does here.
        if catchRawCPUID, platform != .sevSNP, platform != .tdx {
            throw .invalidOptions("--catch-cpuid needs --platform ghcb or tdx (a kvm guest's CPUID is answered by KVM, as on its hardware)")
        }
        if let index = launchOmittedSection {
            guard index >= 0 else { throw .invalidOptions("--launch-omit-section must be a metadata section index, 0 or more (got \(index))") }
            guard platform == .sevSNP || platform == .tdx else {
                throw .invalidOptions("--launch-omit-section needs --platform ghcb or tdx: a kvm launch prepares no metadata sections")
            }
        }
        // The kernel-hashes page is an SNP launch page: no other platform has anywhere to put it.
        if snpKernelHashPage != nil, platform != .sevSNP {
            throw .invalidOptions("--kernel needs --platform ghcb and a firmware-layout image")
        }
    }
}
