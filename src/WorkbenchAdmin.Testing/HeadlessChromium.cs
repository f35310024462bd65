using System.Buffers.Binary;
using System.Diagnostics;
using System.IO.Compression;

namespace WorkbenchAdmin.Testing;

/// <summary>
/// Renders a page in Debian's headless Chromium (the <c>chromium</c> package) and takes its screenshot: how the
/// tests look at Measure-WbBalancer's report as a browser shows it. A fresh profile per run, nothing fetched.
/// </summary>
public static class HeadlessChromium
{
    public const string DefaultPath = "/usr/bin/chromium";

    /// <summary>The browser, or null when it is not installed (./bootstrap.sh installs it).</summary>
    public static string? Find() => File.Exists(DefaultPath) ? DefaultPath : null;

    public static void Screenshot(string htmlPath, string pngPath, int width = 1200, int height = 1600, int timeoutSec = 120)
    {
        var browser = Find() ?? throw new FileNotFoundException("chromium is not installed (apt-get install chromium).", DefaultPath);
        var profile = Directory.CreateTempSubdirectory("wb-chromium-");
        try
        {
            var start = new ProcessStartInfo(browser)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (var arg in new[]
                     {
                         "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                         "--disable-component-update", "--disable-sync", $"--user-data-dir={profile.FullName}", $"--screenshot={Path.GetFullPath(pngPath)}",
                         $"--window-size={width},{height}", new Uri(Path.GetFullPath(htmlPath)).AbsoluteUri,
                     })
                start.ArgumentList.Add(arg);
            using var process = Process.Start(start)!;
            var stderr = process.StandardError.ReadToEndAsync();
            var stdout = process.StandardOutput.ReadToEndAsync();
            if (!process.WaitForExit(timeoutSec * 1000))
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException($"chromium did not finish the screenshot of {htmlPath} within {timeoutSec} s.");
            }
            if (!File.Exists(pngPath))
                throw new InvalidOperationException($"chromium exited with {process.ExitCode} and wrote no screenshot: {stdout.Result}{stderr.Result}");
        }
        finally
        {
            profile.Delete(recursive: true);
        }
    }
}

/// <summary>What a PNG shows, roughly: its size, how many distinct colours, and how much of it is not white.</summary>
public sealed record PngSummary(int Width, int Height, int DistinctColours, double NonWhiteFraction)
{
    /// <summary>Decodes an 8-bit RGB or RGBA, non-interlaced PNG (what Chromium writes): IDAT inflated, scanlines unfiltered.</summary>
    public static PngSummary Read(string path)
    {
        var bytes = File.ReadAllBytes(path);
        ReadOnlySpan<byte> signature = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];
        if (bytes.Length < 8 || !bytes.AsSpan(0, 8).SequenceEqual(signature)) throw new InvalidDataException($"{path} is not a PNG.");
        int width = 0, height = 0, channels = 0;
        using var idat = new MemoryStream();
        for (var at = 8; at + 8 <= bytes.Length;)
        {
            var length = (int)BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(at));
            var type = System.Text.Encoding.ASCII.GetString(bytes, at + 4, 4);
            var data = bytes.AsSpan(at + 8, length);
            if (type == "IHDR")
            {
                width = (int)BinaryPrimitives.ReadUInt32BigEndian(data);
                height = (int)BinaryPrimitives.ReadUInt32BigEndian(data[4..]);
                if (data[8] != 8 || data[12] != 0 || data[9] is not (2 or 6))
                    throw new InvalidDataException($"{path}: only 8-bit non-interlaced RGB or RGBA is read here (colour type {data[9]}).");
                channels = data[9] == 6 ? 4 : 3;
            }
            else if (type == "IDAT") idat.Write(data);
            else if (type == "IEND") break;
            at += 12 + length;
        }
        idat.Position = 0;
        using var inflated = new MemoryStream();
        using (var z = new ZLibStream(idat, CompressionMode.Decompress)) z.CopyTo(inflated);
        var raw = inflated.GetBuffer();
        var stride = width * channels;
        var previous = new byte[stride];
        var row = new byte[stride];
        var colours = new HashSet<int>();
        long nonWhite = 0;
        for (var y = 0; y < height; y++)
        {
            var offset = y * (stride + 1);
            var filter = raw[offset];
            for (var x = 0; x < stride; x++)
            {
                int a = x >= channels ? row[x - channels] : 0, b = previous[x], c = x >= channels ? previous[x - channels] : 0;
                var value = raw[offset + 1 + x];
                row[x] = (byte)(filter switch
                {
                    0 => value,
                    1 => value + a,
                    2 => value + b,
                    3 => value + (a + b) / 2,
                    4 => value + Paeth(a, b, c),
                    _ => throw new InvalidDataException($"{path}: unknown PNG filter {filter} on row {y}."),
                });
            }
            for (var x = 0; x < stride; x += channels)
            {
                var rgb = row[x] << 16 | row[x + 1] << 8 | row[x + 2];
                colours.Add(rgb);
                if (rgb != 0xFFFFFF) nonWhite++;
            }
            (previous, row) = (row, previous);
        }
        return new PngSummary(width, height, colours.Count, (double)nonWhite / ((long)width * height));
    }

    private static int Paeth(int a, int b, int c)
    {
        int p = a + b - c, pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }
}
