namespace WorkbenchAdmin.Core.Configuration;

/// <summary>What a database password's text shows it to be.</summary>
public enum PasswordForm
{
    /// <summary>Nothing shows it is encrypted: plain text, as far as anyone can tell.</summary>
    Plain,
    /// <summary>Base64 of whole cipher blocks, as rstudio-server encrypt-password wrote before it embedded the key hash; a random or base64-encoded password looks the same, so this proves nothing.</summary>
    LooksEncrypted,
    /// <summary>rstudio-server encrypt-password's current form: the key hash before and after the ciphertext.</summary>
    WorkbenchEncrypted,
    /// <summary>Protect-WbDatabasePassword's form: <c>wbenc:v1:</c> and base64 long enough for a nonce and a tag.</summary>
    WorkbenchAdminEncrypted,
}

/// <summary>Tells an encrypted database password from plain text by what the encryptions we know recognisably write.</summary>
public static class PasswordForms
{
    /// <summary>Workbench's key-hash section (8 characters in rstudio's own tests of passwordContainsKeyHash).</summary>
    private const int KeyHashLength = 8;

    public static PasswordForm Classify(string value)
    {
        if (IsOurs(value)) return PasswordForm.WorkbenchAdminEncrypted;
        if (HasWorkbenchKeyHash(value)) return PasswordForm.WorkbenchEncrypted;
        return PasswordProtector.LooksLikeForeignCiphertext(value) ? PasswordForm.LooksEncrypted : PasswordForm.Plain;
    }

    private static bool IsOurs(string value)
    {
        if (!PasswordProtector.IsProtected(value)) return false;
        var body = value[PasswordProtector.Prefix.Length..];
        var bytes = new byte[body.Length];
        return Convert.TryFromBase64String(body, bytes, out var n) && n >= PasswordProtector.NonceSize + PasswordProtector.TagSize;
    }

    /// <summary>
    /// rstudio-server encrypt-password embeds a hash of the secure-cookie-key as the same hexadecimal section at both
    /// ends, around base64 ciphertext (rstudio's passwordContainsKeyHash): a random string matches that by chance
    /// with odds of one in 16^8.
    /// </summary>
    private static bool HasWorkbenchKeyHash(string value)
    {
        if (value.Length <= 2 * KeyHashLength) return false;
        var head = value.AsSpan(0, KeyHashLength);
        var middle = value.AsSpan(KeyHashLength, value.Length - 2 * KeyHashLength);
        return head.SequenceEqual(value.AsSpan(value.Length - KeyHashLength)) && !head.ContainsAnyExcept(HexDigits) && !middle.ContainsAnyExcept(Base64Characters);
    }

    private static readonly System.Buffers.SearchValues<char> HexDigits = System.Buffers.SearchValues.Create("0123456789abcdefABCDEF");
    private static readonly System.Buffers.SearchValues<char> Base64Characters =
        System.Buffers.SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=");
}
