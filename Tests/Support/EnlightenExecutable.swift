import Foundation

/// The `enlighten` executable `swift test` builds into the folder that holds the test bundle.
public enum EnlightenExecutable {
    /// Its path, or nil with the places looked in.
    public static func path(besideBundleOf type: AnyClass) -> (path: String?, lookedIn: [String]) {
        let bundle = Bundle(for: type).bundleURL
        let candidates = [bundle, bundle.deletingLastPathComponent()].map { $0.appendingPathComponent("enlighten").path }
        return (candidates.first { FileManager.default.isExecutableFile(atPath: $0) }, candidates)
    }
}
