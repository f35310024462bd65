using System.Security.Cryptography;
using System.Text;

namespace WorkbenchAdmin.Core.Configuration;

/// <summary>
/// Encrypts database.conf passwords with a key derived from the cluster's secure-cookie-key (HKDF-SHA256,
/// AES-256-GCM), so a copied database.conf is useless without the key and every node of a cluster (same
/// key) can read it. Values carry a visible version prefix: <c>wbenc:v1:</c> + base64(nonce | ciphertext | tag).
/// </summary>
public static class PasswordProtector
{
    public const string Prefix = "wbenc:v1:";
    internal const int NonceSize = 12, TagSize = 16;
    private static readonly byte[] Salt = "WorkbenchAdmin"u8.ToArray();
    private static readonly byte[] Info = "database.conf password v1"u8.ToArray();

    public static bool IsProtected(string value) => value.StartsWith(Prefix, StringComparison.Ordinal);

    /// <summary>
    /// Whether a value we cannot decrypt looks like a block-cipher output in base64 (as rstudio-server
    /// encrypt-password writes): at least 24 characters of base64 decoding to whole 16-byte blocks.
    /// Used only to explain a failed login, never to refuse a password.
    /// </summary>
    public static bool LooksLikeForeignCiphertext(string value)
    {
        if (value.Length < 24 || value.Length % 4 != 0) return false;
        var bytes = new byte[value.Length];
        return Convert.TryFromBase64String(value, bytes, out var n) && n % 16 == 0;
    }

    public static string Protect(string password, ReadOnlySpan<byte> secureCookieKey)
    {
        var plain = Encoding.UTF8.GetBytes(password);
        var nonce = RandomNumberGenerator.GetBytes(NonceSize);
        var output = new byte[NonceSize + plain.Length + TagSize];
        nonce.CopyTo(output, 0);
        using var aes = new AesGcm(DeriveKey(secureCookieKey), TagSize);
        aes.Encrypt(nonce, plain, output.AsSpan(NonceSize, plain.Length), output.AsSpan(NonceSize + plain.Length), Encoding.ASCII.GetBytes(Prefix));
        return Prefix + Convert.ToBase64String(output);
    }

    /// <param name="source">Where the value came from, for the error message (a file path).</param>
    public static string Unprotect(string value, ReadOnlySpan<byte> secureCookieKey, string source)
    {
        byte[] data;
        try { data = Convert.FromBase64String(value[Prefix.Length..]); }
        catch (FormatException e) { throw Undecryptable(source, "it is not valid base64", e); }
        if (data.Length < NonceSize + TagSize) throw Undecryptable(source, "it is too short", null);
        var plain = new byte[data.Length - NonceSize - TagSize];
        try
        {
            using var aes = new AesGcm(DeriveKey(secureCookieKey), TagSize);
            aes.Decrypt(data.AsSpan(0, NonceSize), data.AsSpan(NonceSize, plain.Length), data.AsSpan(NonceSize + plain.Length), plain, Encoding.ASCII.GetBytes(Prefix));
        }
        catch (AuthenticationTagMismatchException e)
        {
            throw Undecryptable(source, "it was encrypted with a different secure-cookie-key (another cluster's, or this node's key differs from the others')", e);
        }
        return Encoding.UTF8.GetString(plain);
    }

    private static WbException Undecryptable(string source, string why, Exception? inner) =>
        new("PasswordDecryptFailed", WbErrorCategory.SecurityError,
            $"The database password in '{source}' cannot be decrypted: {why}. Make the secure-cookie-key identical on every node, " +
            "or store the password again with Protect-WbDatabasePassword -Apply on a node that has the cluster's key.", source, inner);

    private static byte[] DeriveKey(ReadOnlySpan<byte> secureCookieKey)
    {
        var trimmed = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(secureCookieKey).Trim());
        return HKDF.DeriveKey(HashAlgorithmName.SHA256, trimmed, 32, Salt, Info);
    }
}
