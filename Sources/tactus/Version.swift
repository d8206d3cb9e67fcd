/// Tactus's version (`tactus --version`, /metrics' tactus_build_info, the page).
enum TactusVersion {
    static let string = "0.21.0"
}
