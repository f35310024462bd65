using System.Buffers;
using System.Text;

namespace WorkbenchAdmin.Core.Hashing;

/// <summary>CityHash64 of a user name's UTF-8 bytes, without allocating.</summary>
public static class UserNameHash
{
    private const int StackLimit = 256;

    public static ulong Compute(string userName)
    {
        var max = Encoding.UTF8.GetMaxByteCount(userName.Length);
        if (max <= StackLimit)
        {
            Span<byte> buffer = stackalloc byte[StackLimit];
            var n = Encoding.UTF8.GetBytes(userName, buffer);
            return CityHash.CityHash64(buffer[..n]);
        }
        var rented = ArrayPool<byte>.Shared.Rent(max);
        try
        {
            var n = Encoding.UTF8.GetBytes(userName, rented);
            return CityHash.CityHash64(rented.AsSpan(0, n));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }
}
