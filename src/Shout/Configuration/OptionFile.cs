using System.Globalization;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Shout.Configuration;

/// <summary>
/// Reads a file an option names (configuration, access list, certificate, key) safely: only a
/// regular file, at most a given size, within a time limit. A device (<c>/dev/zero</c> reads
/// forever), a FIFO (opening one blocks until a writer comes, so a reload would hang), a socket or a
/// directory is refused in one line. On Linux the file is opened without blocking and its type is
/// checked on the open descriptor, so nothing can be swapped in between. Every failure is an
/// <see cref="OptionFileException"/> whose message names the option and the file.
/// </summary>
internal static partial class OptionFile
{
    /// <summary>How long reading one file may take (a regular file on a hung network mount could block).</summary>
    public static TimeSpan ReadTimeout { get; } = TimeSpan.FromSeconds(5);

    /// <summary>The file's bytes; throws <see cref="OptionFileException"/> saying what is wrong with it.</summary>
    /// <param name="option">The option that named the file, e.g. <c>--access-file</c>, to begin the message.</param>
    /// <param name="path">The file.</param>
    /// <param name="maxBytes">The most bytes accepted (see <see cref="SizeLimits"/>).</param>
    public static byte[] ReadAllBytes(string option, string path, int maxBytes)
    {
        ArgumentNullException.ThrowIfNull(path);
        var handle = Open(option, path);
        var read = Task.Run(() =>
        {
            using (handle)
            {
                return ReadAtMost(handle, maxBytes + 1);
            }
        });
        if (!read.Wait(ReadTimeout))
        {
            throw new OptionFileException($"{option} {path}: not read within {ReadTimeout.TotalSeconds:0} s");
        }

        var bytes = read.Result;
        return bytes.Length > maxBytes
            ? throw new OptionFileException($"{option} {path}: larger than {Size(maxBytes)}, the most read for it")
            : bytes;
    }

    /// <summary>The file as UTF-8 text (see <see cref="ReadAllBytes"/>).</summary>
    public static string ReadAllText(string option, string path, int maxBytes) =>
        new System.Text.UTF8Encoding(false).GetString(ReadAllBytes(option, path, maxBytes)).TrimStart('\uFEFF');

    private static byte[] ReadAtMost(SafeFileHandle handle, int limit)
    {
        var buffer = new byte[Math.Min(limit, 64 * 1024)];
        var total = 0;
        while (total < limit)
        {
            if (total == buffer.Length)
            {
                Array.Resize(ref buffer, (int)Math.Min((long)buffer.Length * 2, limit));
            }

            var n = RandomAccess.Read(handle, buffer.AsSpan(total), total);
            if (n == 0)
            {
                break;
            }

            total += n;
        }

        return buffer[..total];
    }

    private static SafeFileHandle Open(string option, string path)
    {
        if (!OperatingSystem.IsLinux())
        {
            // Elsewhere without the non-blocking open: a directory is still refused, and the read
            // is still capped and timed.
            return Directory.Exists(path) ? throw new OptionFileException($"{option} {path}: a directory, not a file")
                : File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        }

        var fd = Native.Open(path, Native.ReadOnly | Native.NonBlocking | Native.NoControllingTerminal | Native.CloseOnExec);
        if (fd < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            throw new OptionFileException($"{option} {path}: {Describe(errno)}");
        }

        var handle = new SafeFileHandle(fd, ownsHandle: true);
        var status = new byte[256];
        if (Native.Statx(fd, "", Native.EmptyPath, Native.StatxType, status) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            handle.Dispose();
            throw new OptionFileException($"{option} {path}: {Describe(errno)}");
        }

        // struct statx: stx_mode is a u16 at byte 28 on every Linux architecture.
        var type = BitConverter.ToUInt16(status, 28) & 0xF000;
        if (type != 0x8000)
        {
            handle.Dispose();
            throw new OptionFileException($"{option} {path}: {TypeName(type)}, not a regular file");
        }

        return handle;
    }

    private static string TypeName(int type) => type switch
    {
        0x4000 => "a directory",
        0x2000 => "a character device",
        0x6000 => "a block device",
        0x1000 => "a FIFO (named pipe)",
        0xC000 => "a socket",
        _ => "a special file",
    };

    private static string Describe(int errno) => errno switch
    {
        2 => "does not exist",
        13 => "permission denied",
        6 => "a socket, not a regular file", // ENXIO: what open() says of a Unix socket file
        20 => "a path through something that is not a directory",
        _ => new System.ComponentModel.Win32Exception(errno).Message,
    };

    private static string Size(int bytes) =>
        bytes % (1024 * 1024) == 0 ? string.Create(CultureInfo.InvariantCulture, $"{bytes / (1024 * 1024)} MiB")
        : string.Create(CultureInfo.InvariantCulture, $"{bytes} bytes");

    private static partial class Native
    {
        // Linux's generic flag values, the same on x86-64 and arm64.
        public const int ReadOnly = 0;
        public const int NonBlocking = 0x800;
        public const int NoControllingTerminal = 0x100;
        public const int CloseOnExec = 0x80000;
        public const int EmptyPath = 0x1000;
        public const uint StatxType = 0x1;

        [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
        public static partial int Open(string path, int flags);

        [LibraryImport("libc", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
        public static partial int Statx(int dirfd, string path, int flags, uint mask, byte[] buffer);
    }
}

/// <summary>A file an option names cannot be used (missing, not a regular file, too large, too slow); the message says which and why.</summary>
internal sealed class OptionFileException : IOException
{
    /// <summary>An empty message.</summary>
    public OptionFileException()
    {
    }

    /// <summary>With the one-line <paramref name="message"/>.</summary>
    public OptionFileException(string message)
        : base(message)
    {
    }

    /// <summary>With the one-line <paramref name="message"/> and its cause.</summary>
    public OptionFileException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
