import ArgumentParser
import HostRunner

/// `--transport`, shared by `run` and `conformance`: auto leaves the choice to the probe.
enum TransportChoice: String, ExpressibleByArgument, CaseIterable {
    case auto, native, trap
    var forced: Transport? {
        switch self {
        case .auto: nil
        case .native: .native
        case .trap: .trap
        }
    }
}
