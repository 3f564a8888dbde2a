import Foundation

// Themes: `key = value` files keyed by meaning. Value: optional attributes, a foreground colour, optionally
// `on BACKGROUND`. Colours: default, 0-255, the ANSI names (black, red, ..., bright-white), or #rrggbb.
//   loss_loc = bold 81
//   selected = reverse
//   dialog   = 252 on 236

public enum ThemeRole: String, CaseIterable, Sendable {
    case background, text, dim, border, title, status, hint_key, hint_text
    case loss_loc, loss_desc, loss_score, loss_io, loss_total, raw, ema_best, probe
    case keypoint, keypoint_low, inlier, outlier, grid, marker, nan
    case selected, dialog, good, warning, error
}

public struct ThemeError: Error, CustomStringConvertible, Equatable {
    public var file: String
    public var line: Int
    public var message: String
    public var description: String { "\(file):\(line): \(message); using the default theme (fix the line or remove the file)" }
}

public struct Theme: Sendable, Equatable {
    public var name: String
    public var styles: [ThemeRole: Style]

    public subscript(role: ThemeRole) -> Style { styles[role] ?? Style.plain }

    /// The style of a role with the background of the theme filled in where the role has none.
    public func style(_ role: ThemeRole) -> Style {
        var s = self[role]
        if s.bg.isDefault { s.bg = self[.background].bg }
        return s
    }

    /// The same theme as a terminal in `mode` can show it. With no colour, roles keep their attributes.
    public func adapted(to mode: ColorMode) -> Theme {
        var t = self
        for (role, s) in styles {
            t.styles[role] = Style(fg: Palette.adapt(s.fg, to: mode), bg: Palette.adapt(s.bg, to: mode), attrs: s.attrs)
        }
        return t
    }

    // MARK: parsing

    static let colorNames: [String: Int] = [
        "black": 0, "red": 1, "green": 2, "yellow": 3, "blue": 4, "magenta": 5, "cyan": 6, "white": 7,
        "bright-black": 8, "gray": 8, "grey": 8, "bright-red": 9, "bright-green": 10, "bright-yellow": 11,
        "bright-blue": 12, "bright-magenta": 13, "bright-cyan": 14, "bright-white": 15,
    ]

    static func parseColor(_ word: String) -> TermColor? {
        let w = word.lowercased()
        if w == "default" || w == "none" { return .default }
        if let n = colorNames[w] { return TermColor(n) }
        if let n = Int(w), (0...255).contains(n) { return TermColor(n) }
        if w.hasPrefix("#"), w.count == 7, let v = Int(w.dropFirst(), radix: 16) {
            return TermColor(Palette.index256(r: (v >> 16) & 255, g: (v >> 8) & 255, b: v & 255))
        }
        return nil
    }

    struct StyleError: Error { var message: String }

    static func parseStyle(_ value: String) -> Result<Style, StyleError> {
        var style = Style()
        // A lone '#' starts a trailing comment ("text = 252  # light grey"); '#rrggbb' is a colour.
        var words = Array(value.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init).prefix { $0 != "#" })
        if words.isEmpty { return .failure(StyleError(message: "empty value")) }
        if let on = words.firstIndex(of: "on") {
            guard on + 1 < words.count, on + 2 == words.count else { return .failure(StyleError(message: "expected one colour after 'on'")) }
            guard let bg = parseColor(words[on + 1]) else { return .failure(StyleError(message: "unknown colour '\(words[on + 1])'")) }
            style.bg = bg
            words.removeSubrange(on...)
        }
        var sawColor = false
        for w in words {
            switch w.lowercased() {
            case "bold": style.attrs.insert(.bold)
            case "dim": style.attrs.insert(.dim)
            case "reverse": style.attrs.insert(.reverse)
            case "underline": style.attrs.insert(.underline)
            default:
                guard !sawColor else { return .failure(StyleError(message: "more than one foreground colour ('\(w)')")) }
                guard let c = parseColor(w) else {
                    return .failure(StyleError(message: "unknown colour or attribute '\(w)' (use 0-255, a name like bright-red, #rrggbb, default, bold, dim, reverse, underline)"))
                }
                style.fg = c; sawColor = true
            }
        }
        return .success(style)
    }

    /// Parse theme text. Roles not named inherit from `base`. Throws naming the first bad line.
    public static func parse(_ text: String, name: String, file: String, base: Theme? = nil) throws -> Theme {
        var theme = base ?? Theme(name: name, styles: [:])
        theme.name = name
        for (i, rawLine) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            var line = Substring(rawLine)
            if let hash = line.firstIndex(of: "#"), !line[..<hash].contains("=") || line[..<hash].trimmingCharacters(in: .whitespaces).isEmpty {
                line = line[..<hash]   // a comment line (a '#' after '=' is a #rrggbb colour)
            }
            let trimmed = line.trimmingCharacters(in: .whitespacesAndNewlines)
            if trimmed.isEmpty { continue }
            guard let eq = trimmed.firstIndex(of: "=") else {
                throw ThemeError(file: file, line: i + 1, message: "expected 'key = value', got '\(trimmed)'")
            }
            let key = trimmed[..<eq].trimmingCharacters(in: .whitespacesAndNewlines)
            let value = trimmed[trimmed.index(after: eq)...].trimmingCharacters(in: .whitespacesAndNewlines)
            guard let role = ThemeRole(rawValue: key) else {
                throw ThemeError(file: file, line: i + 1, message: "unknown key '\(key)' (known: \(ThemeRole.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            switch parseStyle(value) {
            case .success(let s): theme.styles[role] = s
            case .failure(let e): throw ThemeError(file: file, line: i + 1, message: "\(key): \(e.message)")
            }
        }
        return theme
    }

    // MARK: built-in themes (the same text as themes/*.theme, so the binary works from any directory)

    public static let builtInNames = ["default", "light", "mono", "colorblind"]

    public static let `default`: Theme = try! parse(BuiltInThemes.text["default"]!, name: "default", file: "<built-in default>")

    /// The text of a built-in theme (identical to themes/NAME.theme).
    public static func builtInText(_ name: String) -> String? { BuiltInThemes.text[name] }

    public static func builtIn(_ name: String) -> Theme? {
        guard let text = BuiltInThemes.text[name] else { return nil }
        if name == "default" { return .default }
        return try? parse(text, name: name, file: "<built-in \(name)>", base: .default)
    }

    /// Directories searched for NAME.theme: $KP2D_THEMES, ./themes, and themes/ next to or above the executable.
    public static func searchDirectories() -> [String] {
        var dirs: [String] = []
        if let env = ProcessInfo.processInfo.environment["KP2D_THEMES"], !env.isEmpty { dirs.append(env) }
        dirs.append(FileManager.default.currentDirectoryPath + "/themes")
        var exe = URL(fileURLWithPath: CommandLine.arguments.first ?? "").resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<4 {
            dirs.append(exe.appendingPathComponent("themes").path)
            exe = exe.deletingLastPathComponent()
        }
        return dirs
    }

    /// Every theme name available: built-in ones plus any NAME.theme file found.
    public static func availableNames(directories: [String] = searchDirectories()) -> [String] {
        var names = builtInNames
        for dir in directories {
            let files = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
            for f in files.sorted() where f.hasSuffix(".theme") {
                let n = String(f.dropLast(6))
                // Only files that are themes: a binary or malformed file is not offered as one.
                guard case .success = readThemeText(dir + "/" + f),
                      (try? parse((try? readThemeText(dir + "/" + f).get()) ?? "", name: n, file: f, base: .default)) != nil else { continue }
                if !names.contains(n) { names.append(n) }
            }
        }
        return names
    }

    struct ThemeReadError: Error { var message: String }

    /// The text of a theme file: UTF-8 without NUL bytes (a binary file is not a theme).
    static func readThemeText(_ path: String) -> Result<String, ThemeReadError> {
        guard let data = FileManager.default.contents(atPath: path) else {
            return .failure(ThemeReadError(message: "\(path): cannot read the theme file (a folder, or no permission)"))
        }
        guard !data.contains(0), let text = String(data: data, encoding: .utf8) else {
            return .failure(ThemeReadError(message: "\(path): not a text theme file (binary data); write 'key = value' lines or remove it"))
        }
        return .success(text)
    }

    /// Load a theme by name: a NAME.theme file if one exists (it overrides the built-in one), else the built-in.
    /// A malformed file or unknown name yields the default theme plus a one-line warning.
    public static func load(name: String, directories: [String] = searchDirectories()) -> (Theme, warning: String?) {
        for dir in directories {
            let path = dir + "/" + name + ".theme"
            guard FileManager.default.fileExists(atPath: path) else { continue }
            let text: String
            switch readThemeText(path) {
            case .success(let t): text = t
            case .failure(let e): return (.default, "\(e.message); using the default theme")
            }
            do {
                return (try parse(text, name: name, file: path, base: .default), nil)
            } catch {
                return (.default, "\(error)")
            }
        }
        if let t = builtIn(name) { return (t, nil) }
        return (.default, "unknown theme '\(name)' (available: \(availableNames(directories: directories).joined(separator: ", "))); using the default theme")
    }
}
