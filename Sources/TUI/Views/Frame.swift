// Rounded frames around panes, with an optional title on the top border.

public enum Frame {
    public static func draw(into grid: inout CellGrid, rect: Rect, theme: Theme, glyphs: Glyphs, focused: Bool = false,
                            title: String? = nil) {
        guard rect.width >= 2, rect.height >= 2 else { return }
        let s = focused ? theme.style(.title) : theme.style(.border)
        grid.fill(rect.inset(1), " ", theme.style(.text))
        for x in rect.x + 1..<rect.maxX - 1 {
            grid.set(x, rect.y, glyphs.horizontal, s); grid.set(x, rect.maxY - 1, glyphs.horizontal, s)
        }
        for y in rect.y + 1..<rect.maxY - 1 {
            grid.set(rect.x, y, glyphs.vertical, s); grid.set(rect.maxX - 1, y, glyphs.vertical, s)
        }
        grid.set(rect.x, rect.y, glyphs.topLeft, s); grid.set(rect.maxX - 1, rect.y, glyphs.topRight, s)
        grid.set(rect.x, rect.maxY - 1, glyphs.bottomLeft, s); grid.set(rect.maxX - 1, rect.maxY - 1, glyphs.bottomRight, s)
        if let title {
            grid.put(rect.x + 2, rect.y, " " + title + " ", theme.style(.title), maxWidth: rect.width - 4)
        }
    }
}
