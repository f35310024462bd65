using System.Globalization;
using System.Text;
using WorkbenchAdmin.Core.Hashing;
using WorkbenchAdmin.Core.Tests.Support;

namespace WorkbenchAdmin.Core.Tests.Hashing;

public class CityHashTests
{
    private const ulong K0 = 0xc3a5c85c97cb3127UL;
    private const ulong K2 = 0x9ae16a3b2f90404fUL;
    private const ulong Seed0 = 1234567;
    private const ulong Seed1 = K0;

    /// <summary>The reference test buffer, regenerated exactly as the table's header describes.</summary>
    internal static byte[] ReferenceBuffer()
    {
        var data = new byte[1 << 20];
        ulong a = 9, b = 777;
        for (var i = 0; i < data.Length; i++)
        {
            a += b;
            b += a;
            a = (a ^ (a >> 41)) * K0;
            b = (b ^ (b >> 41)) * K0 + (ulong)i;
            data[i] = (byte)(b >> 37);
        }
        return data;
    }

    public sealed record Vector(int Row, int Offset, int Length, ulong Hash, ulong WithSeed, ulong WithSeeds);

    private static IReadOnlyList<Vector> Vectors() =>
        File.ReadAllLines(Path.Combine(RepoPaths.Shared, "cityhash-v1.1-vectors.tsv"))
            .Where(l => l.Length > 0 && char.IsDigit(l[0]))
            .Select(l => l.Split('\t'))
            .Select(f => new Vector(int.Parse(f[0]), int.Parse(f[1]), int.Parse(f[2]),
                ulong.Parse(f[3], NumberStyles.HexNumber), ulong.Parse(f[4], NumberStyles.HexNumber), ulong.Parse(f[5], NumberStyles.HexNumber)))
            .ToList();

    [Fact]
    public void MatchesEveryRowOfTheReferenceTable()
    {
        var data = ReferenceBuffer();
        var vectors = Vectors();
        Assert.Equal(300, vectors.Count);
        var failures = new List<string>();
        foreach (var v in vectors)
        {
            var s = data.AsSpan(v.Offset, v.Length);
            var got = (CityHash.CityHash64(s), CityHash.CityHash64WithSeed(s, Seed0), CityHash.CityHash64WithSeeds(s, Seed0, Seed1));
            if (got != (v.Hash, v.WithSeed, v.WithSeeds))
                failures.Add($"row {v.Row} (len {v.Length}): got {got.Item1:x16} {got.Item2:x16} {got.Item3:x16}");
        }
        Assert.Empty(failures);
    }

    [Fact]
    public void TheTableCoversEveryLengthFrom0To298AndOneMebibyte()
    {
        var lengths = Vectors().Select(v => v.Length).ToHashSet();
        Assert.All(Enumerable.Range(0, 299), n => Assert.Contains(n, lengths));
        Assert.Contains(1 << 20, lengths);
    }

    [Fact]
    public void TheResultDoesNotDependOnAlignment()
    {
        // Unaligned 8-byte reads are the hot path: every length 0..300 at every offset 0..7 of a larger buffer.
        var data = ReferenceBuffer();
        for (var len = 0; len <= 300; len++)
        {
            var expected = CityHash.CityHash64(data.AsSpan(0, len).ToArray());
            for (var shift = 1; shift < 8; shift++)
            {
                var copy = new byte[len + shift];
                data.AsSpan(0, len).CopyTo(copy.AsSpan(shift));
                Assert.Equal(expected, CityHash.CityHash64(copy.AsSpan(shift, len)));
            }
        }
    }

    private static ulong HashLen16(ulong u, ulong v)
    {
        const ulong mul = 0x9ddfea08eb382d69UL;
        var a = (u ^ v) * mul;
        a ^= a >> 47;
        var b = (v ^ a) * mul;
        b ^= b >> 47;
        return b * mul;
    }

    [Fact]
    public void SeedFunctionsFollowTheirDefinitionsAtEveryLength()
    {
        var data = ReferenceBuffer();
        for (var len = 0; len <= 300; len++)
        {
            var s = data.AsSpan(1000, len);
            var h = CityHash.CityHash64(s);
            Assert.Equal(HashLen16(h - K2, 42), CityHash.CityHash64WithSeed(s, 42));
            Assert.Equal(HashLen16(h - 7, 9), CityHash.CityHash64WithSeeds(s, 7, 9));
        }
    }

    [Fact]
    public void UserNamesHashTheirUtf8BytesAtEveryLength()
    {
        // ASCII, two-, three- and four-byte characters, through both the stack and the pooled buffer paths.
        string[] alphabet = ["a", "é", "名", "😀"];
        for (var bytes = 0; bytes <= 300; bytes++)
        {
            foreach (var unit in alphabet)
            {
                var sb = new StringBuilder();
                while (Encoding.UTF8.GetByteCount(sb.ToString()) + Encoding.UTF8.GetByteCount(unit) <= bytes) sb.Append(unit);
                while (Encoding.UTF8.GetByteCount(sb.ToString()) < bytes) sb.Append('x');
                var name = sb.ToString();
                Assert.Equal(bytes, Encoding.UTF8.GetByteCount(name));
                Assert.Equal(CityHash.CityHash64(Encoding.UTF8.GetBytes(name)), UserNameHash.Compute(name));
            }
        }
    }

    [Fact]
    public void AShortNameWithOneNonAsciiCharacterAnywhereHashesItsUtf8Bytes()
    {
        // Names of up to 16 characters are hashed from their characters when all are ASCII: one character that is
        // not (just above ASCII, Latin-1, beyond, a surrogate pair) at any position must take the UTF-8 path.
        string[] odd = ["\u0080", "é", "\u00ff", "\u0100", "名", "\uff80", "😀"];
        for (var len = 1; len <= 17; len++)
            for (var at = 0; at < len; at++)
                foreach (var o in odd)
                {
                    var name = new string('a', at) + o + new string('z', len - at - 1);
                    Assert.Equal(CityHash.CityHash64(Encoding.UTF8.GetBytes(name)), UserNameHash.Compute(name));
                }
    }

    [Theory]
    [InlineData("", 0x9ae16a3b2f90404fUL)]
    public void KnownValues(string input, ulong expected) => Assert.Equal(expected, UserNameHash.Compute(input));
}
