// A stand-in for Elasticsearch's bootstrap with `bootstrap.memory_lock: true`,
// small enough to read in one sitting. It does what Elasticsearch does before
// it serves anything (server/src/main/java/org/elasticsearch/bootstrap/
// JNANatives.java and BootstrapChecks.java):
//   1. refuse to run as root (geteuid() == 0 through JNA);
//   2. pre-touch a heap of N MiB (the JVM's -Xms with -XX:+AlwaysPreTouch does
//      the same for the whole heap);
//   3. mlockall(MCL_CURRENT) through JNA and, on failure, log the errno and the
//      RLIMIT_MEMLOCK it ran into;
//   4. exit non-zero when memory is not locked (the memory-lock bootstrap check).
//
// Build and run (Debian: openjdk-17-jdk-headless, libjna-java):
//   javac -cp /usr/share/java/jna.jar -d /tmp/ml examples/java/MemoryLock.java
//   java -Xms128m -Xmx128m -XX:+AlwaysPreTouch -cp /tmp/ml:/usr/share/java/jna.jar MemoryLock 64
// Under lockdrop, as an unprivileged user, in a container with IPC_LOCK:
//   lockdrop --user elasticsearch --memlock unlimited -- java ... MemoryLock 64
// tests/runc.rs runs exactly this in a runc container, and the old
// `ulimit -l unlimited; su ...` way for contrast.

import com.sun.jna.Native;
import com.sun.jna.Structure;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;

public final class MemoryLock {
    // <sys/mman.h>; the same constant Elasticsearch's JNACLibrary uses.
    static final int MCL_CURRENT = 1;
    // <sys/resource.h> on Linux.
    static final int RLIMIT_MEMLOCK = 8;
    static final long RLIM_INFINITY = -1L;

    /** The C library functions we need, bound directly like JNACLibrary. */
    static final class CLib {
        static {
            Native.register("c");
        }

        static native int mlockall(int flags);

        static native int geteuid();

        static native int getrlimit(int resource, Rlimit rlimit);

        static native String strerror(int errno);
    }

    /** struct rlimit: two rlim_t (unsigned long on 64-bit Linux). */
    @Structure.FieldOrder({"rlim_cur", "rlim_max"})
    public static final class Rlimit extends Structure {
        public long rlim_cur;
        public long rlim_max;
    }

    static String rlim(long v) {
        return v == RLIM_INFINITY ? "unlimited" : Long.toUnsignedString(v);
    }

    /** One field of /proc/self/status, e.g. "VmLck" -> "65536 kB". */
    static String status(String key) {
        try {
            for (String line : Files.readAllLines(Paths.get("/proc/self/status"))) {
                if (line.startsWith(key + ":")) {
                    return line.substring(key.length() + 1).trim();
                }
            }
        } catch (Exception e) {
            return "?";
        }
        return "?";
    }

    /** "65536 kB" -> 64 */
    static long mib(String kb) {
        try {
            return Long.parseLong(kb.split("\\s+")[0]) >> 10;
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    public static void main(String[] args) {
        int mib = args.length > 0 ? Integer.parseInt(args[0]) : 64;

        // Elasticsearch: "can not run elasticsearch as root".
        if (CLib.geteuid() == 0) {
            System.err.println("memorylock: can not run as root");
            System.exit(1);
        }

        // Pre-touch: commit and touch every page of an N MiB heap, so that
        // mlockall(MCL_CURRENT) has real memory to lock.
        List<byte[]> heap = new ArrayList<>();
        // 64 KiB chunks: G1 would store 1 MiB arrays as humongous objects
        // taking two regions each.
        for (int i = 0; i < mib * 16; i++) {
            byte[] chunk = new byte[64 << 10];
            for (int p = 0; p < chunk.length; p += 4096) {
                chunk[p] = 1;
            }
            heap.add(chunk);
        }

        Rlimit lim = new Rlimit();
        CLib.getrlimit(RLIMIT_MEMLOCK, lim);
        String who = "uid " + status("Uid").split("\\s+")[0] + ", CapAmb " + status("CapAmb")
                + ", RLIMIT_MEMLOCK soft " + rlim(lim.rlim_cur) + " hard " + rlim(lim.rlim_max);

        int rc = CLib.mlockall(MCL_CURRENT);
        if (rc != 0) {
            int errno = Native.getLastError();
            // The two lines Elasticsearch logs, then its bootstrap check.
            System.out.println("memorylock: " + who);
            System.out.println("memorylock: Unable to lock JVM Memory: error=" + errno
                    + ", reason=" + CLib.strerror(errno));
            System.out.println("memorylock: memory locking requested but memory is not locked");
            System.exit(1);
        }
        // VmLck counts every locked mapping, reservations included; VmRSS is
        // the memory that is actually resident (and, after mlockall, locked).
        System.out.println("memorylock: " + who);
        System.out.println("memorylock: mlockall ok: heap " + mib + " MiB touched, resident and locked "
                + mib(status("VmRSS")) + " MiB (VmRSS), locked mappings " + mib(status("VmLck"))
                + " MiB (VmLck)");
        // Keep the heap reachable until here.
        if (heap.size() != mib * 16) {
            System.exit(2);
        }
    }
}
