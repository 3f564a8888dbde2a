// GENERATED from themes/*.theme (keep in sync: TUITests.testBuiltInThemesMatchFiles checks it).

enum BuiltInThemes {
    static let text: [String: String] = [
        "default": """
        # kp2d-tui theme "default" (dark terminals). key = [attributes] FOREGROUND [on BACKGROUND]
        # colours: default, 0-255 (xterm palette), black..white, bright-black..bright-white, #rrggbb
        background = default on default
        text = 252
        dim = 244
        border = 239
        title = bold 75
        status = 252 on 236
        hint_key = bold 75
        hint_text = 246
        loss_loc = 81
        loss_desc = 213
        loss_score = 221
        loss_io = 114
        loss_total = bold 231
        raw = 240
        ema_best = bold 226
        probe = bold 208
        keypoint = 226
        keypoint_low = 130
        inlier = bold 46
        outlier = bold 196
        grid = 51
        marker = 141
        nan = bold 196
        selected = reverse
        dialog = 252 on 237
        good = 114
        warning = 214
        error = bold 196
        """,
        "light": """
        # kp2d-tui theme "light" (light terminal backgrounds).
        background = default on default
        text = 236
        dim = 245
        border = 250
        title = bold 25
        status = 236 on 253
        hint_key = bold 25
        hint_text = 242
        loss_loc = 31
        loss_desc = 127
        loss_score = 136
        loss_io = 28
        loss_total = bold 16
        raw = 251
        ema_best = bold 166
        probe = bold 202
        keypoint = 166
        keypoint_low = 180
        inlier = bold 28
        outlier = bold 160
        grid = 31
        marker = 91
        nan = bold 160
        selected = reverse
        dialog = 236 on 254
        good = 28
        warning = 130
        error = bold 160
        """,
        "mono": """
        # kp2d-tui theme "mono" (high contrast, no colours: attributes only; also used with NO_COLOR).
        background = default on default
        text = default
        dim = dim
        border = default
        title = bold
        status = reverse
        hint_key = bold reverse
        hint_text = default
        loss_loc = bold
        loss_desc = bold
        loss_score = bold
        loss_io = bold
        loss_total = bold
        raw = dim
        ema_best = bold underline
        probe = underline
        keypoint = bold
        keypoint_low = default
        inlier = bold
        outlier = bold
        grid = dim
        marker = dim
        nan = bold reverse
        selected = reverse
        dialog = reverse
        good = bold
        warning = bold underline
        error = bold reverse
        """,
        "colorblind": """
        # kp2d-tui theme "colorblind": Okabe-Ito palette; inliers blue, outliers orange (never red against green).
        background = default on default
        text = 252
        dim = 244
        border = 239
        title = bold 74
        status = 252 on 236
        hint_key = bold 74
        hint_text = 246
        loss_loc = 74
        loss_desc = 175
        loss_score = 227
        loss_io = 36
        loss_total = bold 231
        raw = 240
        ema_best = bold 227
        probe = bold 214
        keypoint = 227
        keypoint_low = 94
        inlier = bold 39
        outlier = bold 208
        grid = 74
        marker = 175
        nan = bold 208
        selected = reverse
        dialog = 252 on 237
        good = 39
        warning = 208
        error = bold 208
        """,
    ]
}
