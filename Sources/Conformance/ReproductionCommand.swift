import HostRunner
import Payload

/// The `enlighten run …` command that runs one case by itself with the options the suite
/// gave it, so a failure can be reproduced (and its log read) without knowing the catalogue.
enum ReproductionCommand {
    /// `home` is ENLIGHTEN_HOME when it is set (a copy of GuestStubs), so the command builds
    /// the same sources the suite did.
    static func make(
        stub: String, layout: Layout, options: RunOptions, profile: HostProfile = .host, home: String?, defect: FirmwareDefect? = nil
    ) -> String {
        let defaults = RunOptions()
        var words = ["enlighten", "run", quote(stub)]
        if layout != .direct64 { words += ["--layout", layout.rawValue] }
        if let platform = options.platform { words += ["--platform", platform.rawValue] }
        if let transport = options.transport { words += ["--transport", transport.rawValue] }
        if let backing = options.backing { words += ["--backing", backing.rawValue] }
        words += profile.arguments
        if options.memory != defaults.memory { words += ["--memory", size(options.memory)] }
        if options.vcpus != defaults.vcpus { words += ["--vcpus", String(options.vcpus)] }
        if options.injectRetries != defaults.injectRetries { words += ["--inject-retry", String(options.injectRetries)] }
        if options.timeout != defaults.timeout { words += ["--timeout", number(options.timeout)] }
        // The TD attributes decide what a touch before ACCEPT meets (#VE or a stop), so a
        // case that clears SEPT_VE_DISABLE is only reproduced with them.
        if options.platform == .tdx, options.tdxAttributes != defaults.tdxAttributes {
            words += ["--tdx-attributes", "0x" + String(options.tdxAttributes, radix: 16)]
        }
        if options.maxEvents != defaults.maxEvents { words += ["--max-events", String(options.maxEvents)] }
        if let until = options.until { words += ["--until", until.rawValue] }
        if let section = options.launchOmittedSection { words += ["--launch-omit-section", String(section)] }
        var command = words.joined(separator: " ")
        // A deliberate launch defect has no `run` option: say so rather than hand out a
        // command that quietly runs a correct launch instead.
        if let fault = options.launchFault { command += "  # plus the launch fault \(fault), which `enlighten run` cannot set" }
        if let defect { command += "  # on a copy of the firmware with \(defect.description), which `enlighten run` cannot make" }
        return home.map { "ENLIGHTEN_HOME=\(quote($0)) \(command)" } ?? command
    }

    /// 2 GiB as "2G", 64 MiB as "64M": what `run --memory` reads.
    static func size(_ bytes: UInt64) -> String {
        if bytes % (1 << 30) == 0 { return "\(bytes >> 30)G" }
        if bytes % (1 << 20) == 0 { return "\(bytes >> 20)M" }
        return String(bytes)
    }

    private static func number(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(value)
    }

    /// Single-quotes a word the shell would otherwise split or expand.
    static func quote(_ word: String) -> String {
        let plain = word.unicodeScalars.allSatisfy { $0.properties.isAlphabetic || "0123456789-_./=:+,@".unicodeScalars.contains($0) }
        return plain && !word.isEmpty ? word : "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
